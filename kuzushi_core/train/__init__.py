"""Data → model: architectures, augmentation, training, transfer, the reader, background jobs, the registry.

- :mod:`.architectures` — the CNNs (a convolutional base up to ``features`` plus a classifier head);
- :mod:`.augment` — augmentation on Keras preprocessing layers, with the harmful-transform warnings;
- :mod:`.fit` — tf.data pipelines, the training loop, early stopping, best checkpoint on val_loss, k-fold;
- :mod:`.features` — training on cached features (the frozen part runs once per glyph);
- :mod:`.transfer` — feature extraction, fine-tuning or scratch from a registered model;
- :mod:`.adapt` — a new model version from the workspace's labels and unlabelled pages, checked against its parent;
- :mod:`.reader` — the base reader of thousands of characters (``train-reader``);
- :mod:`.jobs` — training in a worker process, progress through the store;
- :mod:`.registry` — importing, exporting and rolling back model files.
"""
