"""Synthetic glyphs: the vocabulary of the reader, the brush and handwriting fonts that
write it, and renders made to look like the crops the segmenter cuts from a scan.

``vocabulary`` — which characters the reader knows (kana, JIS X 0208 level-1 kanji, the
land-register vocabulary, the shared pages' characters, KMNIST's kana).
``fonts`` — the installed fonts (Debian's brush/handwriting faces) and their coverage.
``render`` — a character in a font, then brush-and-paper augmentation, seeded.
"""
