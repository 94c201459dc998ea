"""Learn from my corrections (the panel on the Read and Label next pages)."""

STRINGS: dict[str, dict[str, str]] = {
    "learn.title": {"en": "Learn from my corrections", "ja": "直したラベルから学ぶ"},
    "learn.help": {"en": "Trains a new version of the active model on this document's labels and its unlabelled pages (in the background, usually well under a minute once the base's rehearsal cache exists). A share of your labels is held out: both versions are scored on it, and the new one becomes active only when it is not worse.", "ja": "この文書のラベルと未ラベルのページから、使用中のモデルの新しい版を学習します（裏で実行、通常1 分以内）。ラベルの一部は学習に使わず取り分け、両方の版をそれで採点し、新しい版が劣らないときだけ使用中にします。"},
    "learn.go": {"en": "Learn from my corrections ({n} labels)", "ja": "直したラベルから学ぶ（ラベル {n} 件）"},
    "learn.none": {"en": "Label a few characters first.", "ja": "まず何文字かラベルを付けてください。"},
    "learn.running": {"en": "Learning: {stage}", "ja": "学習中：{stage}"},
    "learn.queued": {"en": "Queued: learning starts in a moment.", "ja": "待機中：まもなく学習を始めます。"},
    "learn.failed": {"en": "Learning failed: {error}. Your labels are untouched.", "ja": "学習に失敗しました：{error}。ラベルはそのままです。"},
    "learn.scores": {"en": "Held-out labels ({n}): current version {parent:.0%} → new version {new:.0%}", "ja": "取り分けたラベル（{n} 件）：今の版 {parent:.0%} → 新しい版 {new:.0%}"},
    "learn.old": {"en": "Characters it already read (KMNIST validation {kp:.1%} → {kn:.1%}; renders of every character {rp:.1%} → {rn:.1%})", "ja": "既に読めていた文字（KMNIST 検証 {kp:.1%} → {kn:.1%}、全文字の描画 {rp:.1%} → {rn:.1%}）"},
    "learn.activated": {"en": "The new version #{id} is active; the document was re-read: {changed} readings changed, {fixed} now agree with a label.", "ja": "新しい版 #{id} を使用中にし、文書を読み直しました：{changed} 文字が変わり、{fixed} 文字がラベルと一致しました。"},
    "learn.kept": {"en": "The new version #{id} was not made active (the current version stays): {why}", "ja": "新しい版 #{id} は使用中にしていません（今の版のまま）：{why}"},
    "learn.activate": {"en": "Make version #{id} active anyway", "ja": "版 #{id} を使用中にする"},
    "learn.made_active": {"en": "Version #{id} is now active.", "ja": "版 #{id} を使用中にしました。"},
    "learn.worse_why": {"en": "it is worse than the current version", "ja": "今の版より劣ります"},
}
