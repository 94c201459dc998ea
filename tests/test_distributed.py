"""Training beyond one device: Keras 3 on TensorFlow under tf.distribute.MirroredStrategy.

No test machine has two GPUs, so the strategy is run over two logical CPU devices (TensorFlow splits the CPU in
two): the same code path as two GPUs on one host — variables mirrored, each batch split in two, gradients summed
across the replicas.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, ".")
from kuzushi_core.train.fit import TrainConfig, model_card, train
from tests.glyphs import bars
res = train(bars(40), TrainConfig(arch="baseline", epochs=6, batch_size=32, strategy=sys.argv[1], patience=20))
card = model_card(res)
print(json.dumps({"replicas": res.replicas, "accuracy": res.val_metrics["accuracy"],
                  "card_replicas": card["training"]["replicas"], "epochs": len(res.history)}))
"""


def run(strategy: str) -> dict:
    r = subprocess.run([sys.executable, "-c", SCRIPT, strategy], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_mirrored_strategy_trains_on_two_replicas():
    mirrored = run("mirrored")
    assert mirrored["replicas"] == mirrored["card_replicas"] == 2
    assert mirrored["epochs"] == 6
    assert mirrored["accuracy"] >= 0.9  # three easy classes: learnt with the batch split across two replicas
    assert run("default")["replicas"] == 1
