"""The Augment page."""

STRINGS: dict[str, dict[str, str]] = {
    "aug.synth": {"en": "Synthetic glyphs: a character in the brush fonts, made to look like a crop of a scan", "ja": "合成字形：毛筆フォントの文字を、スキャンから切り出した字のように加工"},
    "aug.synth_help": {"en": "The reader's training renders: each font that writes the character, then brush-and-paper augmentation (elastic distortion, stroke width, ink density and bleed, blur, rotation and shear, paper tint and noise, jittered box margins, neighbours' strokes at the edge).", "ja": "認識モデルの学習用の合成字形です。その文字を書けるフォントごとに描き、筆と紙の加工（弾性変形・線の太さ・墨の濃さとにじみ・ぼかし・回転と傾き・紙の色とノイズ・枠の余白の揺れ・上下の字の筆画）を加えます。"},
    "aug.synth_char": {"en": "Character", "ja": "文字"},
    "aug.synth_none": {"en": "No installed font writes “{char}”.", "ja": "「{char}」を書けるフォントがありません。"},
    "aug.synth_faces": {"en": "Fonts: {faces}", "ja": "フォント：{faces}"},
    "aug.title": {"en": "Augmentation preview", "ja": "データ拡張のプレビュー"},
    "aug.intro": {"en": "See what training will see: every knob applied to your own crops.", "ja": "学習で使う変形を、自分の文字画像で確かめます。"},
    "aug.source": {"en": "Crops", "ja": "文字画像"},
    "aug.random": {"en": "random boxes of the workspace", "ja": "ワークスペースからランダム"},
    "aug.no_crops": {"en": "No boxes yet: segment a scan first (or add the demo page on the Scans page).", "ja": "まだ枠がありません。先に文字を切り出してください。"},
    "aug.preset": {"en": "Start from", "ja": "元にする設定"},
    "aug.seed": {"en": "Seed", "ja": "乱数の種"},
    "aug.harm": {"en": "Harmful for characters: {reason}", "ja": "文字には有害：{reason}"},
    "aug.safe": {"en": "No harmful setting.", "ja": "有害な設定はありません。"},
    "aug.name": {"en": "Save as", "ja": "名前を付けて保存"},
    "aug.save": {"en": "Save config", "ja": "設定を保存"},
    "aug.saved": {"en": "Saved “{name}”: choose it on the Train page.", "ja": "「{name}」を保存しました。再学習ページで選べます。"},
    "aug.originals": {"en": "Originals", "ja": "元の画像"},
    "aug.samples": {"en": "32 augmented samples ({ms:.0f} ms)", "ja": "拡張した 32 枚（{ms:.0f} ms）"},
}
