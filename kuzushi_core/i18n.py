"""UI strings in Japanese and English.

Pages call ``t(key, lang)``; a missing Japanese string falls back to English,
a missing key to the key itself (so a typo shows up on screen, not as a crash).
"""

from __future__ import annotations

LANGUAGES = {"ja": "日本語", "en": "English"}
DEFAULT_LANGUAGE = "ja"

STRINGS: dict[str, dict[str, str]] = {
    "app.title": {"en": "Kuzushi Lab", "ja": "くずし字ラボ"},
    "app.tagline": {
        "en": "Turn scans of handwritten ledgers into data.",
        "ja": "手書き台帳のスキャン画像をデータに。",
    },
    "nav.home": {"en": "Home", "ja": "ホーム"},
    "nav.scans": {"en": "Scans", "ja": "スキャン"},
    "sidebar.language": {"en": "Language / 言語", "ja": "言語 / Language"},
    "sidebar.workspace": {"en": "Workspace", "ja": "ワークスペース"},
    "sidebar.document": {"en": "Document (ledger volume)", "ja": "文書（台帳の冊）"},
    "sidebar.all_documents": {"en": "All documents", "ja": "すべての文書"},
    "sidebar.new_document": {"en": "New document", "ja": "新しい文書"},
    "sidebar.create": {"en": "Create", "ja": "作成"},
    "sidebar.active_model": {"en": "Active model", "ja": "使用中のモデル"},
    "sidebar.no_model": {"en": "none yet", "ja": "まだありません"},
    "home.counts": {
        "en": "{docs} documents · {scans} scans · {labels} labels",
        "ja": "文書 {docs} 件 · スキャン {scans} 枚 · ラベル {labels} 件",
    },
    "home.steps": {
        "en": "1. Scans: upload ledger pages. Further steps (segment, read, review, retrain, export) follow.",
        "ja": "1. スキャン：台帳の画像をアップロードします。以降の手順（切り出し・認識・確認・再学習・書き出し）が続きます。",
    },
    "scans.title": {"en": "Scans", "ja": "スキャン"},
    "scans.upload": {
        "en": "Upload ledger scans (JPEG, PNG, TIFF, BMP, WebP, PDF)",
        "ja": "台帳のスキャン画像をアップロード（JPEG・PNG・TIFF・BMP・WebP・PDF）",
    },
    "scans.import_into": {"en": "Import into document", "ja": "取り込み先の文書"},
    "scans.import_button": {"en": "Import {n} file(s)", "ja": "{n} 件を取り込む"},
    "scans.importing": {"en": "Importing {i}/{n}: {name}", "ja": "取り込み中 {i}/{n}：{name}"},
    "scans.imported": {"en": "Imported {name}: {pages} page(s).", "ja": "{name} を取り込みました（{pages} ページ）。"},
    "scans.duplicate": {
        "en": "{name} is already in the workspace (scan {ids}); not imported again.",
        "ja": "{name} はすでに取り込み済みです（スキャン {ids}）。再度は取り込みません。",
    },
    "scans.refused": {"en": "Refused: {error}", "ja": "取り込めません：{error}"},
    "scans.empty": {
        "en": "No scans yet. Upload ledger pages above.",
        "ja": "スキャンはまだありません。上からアップロードしてください。",
    },
    "scans.open": {"en": "Open", "ja": "開く"},
    "scans.close": {"en": "Close", "ja": "閉じる"},
    "scans.delete": {"en": "Delete", "ja": "削除"},
    "scans.confirm_delete": {
        "en": "Delete scan #{id} ({name}) with its {boxes} boxes and {labelled} labelled characters? This cannot be undone.",
        "ja": "スキャン #{id}（{name}）と、その {boxes} 個の枠・{labelled} 件のラベルを削除しますか？元に戻せません。",
    },
    "scans.confirm": {"en": "Yes, delete", "ja": "削除する"},
    "scans.cancel": {"en": "Cancel", "ja": "キャンセル"},
    "scans.deleted": {"en": "Scan #{id} deleted.", "ja": "スキャン #{id} を削除しました。"},
    "scans.details": {
        "en": "{w}×{h} px · {fmt} · page {page} · {size} · imported {when}",
        "ja": "{w}×{h} px · {fmt} · {page} ページ目 · {size} · 取り込み {when}",
    },
    "scans.count": {"en": "{n} scans", "ja": "{n} 枚"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **kwargs: object) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        text = key
    else:
        text = entry.get(lang) or entry["en"]
    return text.format(**kwargs) if kwargs else text
