"""The Label next page."""

STRINGS: dict[str, dict[str, str]] = {
    "queue.title": {"en": "Label these next", "ja": "次にラベルを付ける文字"},
    "queue.intro": {"en": "The unlabelled characters across the workspace, in the chosen order. Type a character and press Enter; 1–5 picks a candidate; Enter alone accepts the model's reading.", "ja": "ラベルのない文字を、選んだ順に。文字を入力して Enter、1〜5 で候補を選択、空のまま Enter で予測を採用。"},
    "queue.empty": {"en": "Nothing to label: read some pages first, or everything read is labelled.", "ja": "ラベル待ちの文字はありません。"},
    "queue.count": {"en": "{n} characters waiting", "ja": "{n} 文字が待っています"},
    "queue.scan": {"en": "scan", "ja": "スキャン"},
    "queue.skip": {"en": "Skip", "ja": "飛ばす"},
    "queue.type": {"en": "Character, or 1–5", "ja": "文字、または 1〜5"},
    "queue.next": {"en": "Next up", "ja": "この後"},
    "queue.order": {"en": "Order", "ja": "順番"},
    "queue.order.gain": {"en": "most to learn first (uncertainty × how often its candidates occur here)", "ja": "学びの多い順（不確かさ × 候補がこの文書に出る回数）"},
    "queue.order.uncertainty": {"en": "least sure first", "ja": "確信の低い順"},
    "queue.order.random": {"en": "random", "ja": "ランダム"},
    "queue.context": {"en": "The column around it", "ja": "前後の文字（同じ列）"},
}
