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
        "en": "1. **Scans**: upload ledger pages.  \n2. **Segment**: find the characters, fix boxes by clicking.  \n"
              "3. **Read**: recognise them, correct the uncertain ones.",
        "ja": "1. **スキャン**：台帳の画像を取り込みます。  \n2. **文字の切り出し**：文字の枠を求め、クリックで直します。  \n"
              "3. **文字の認識**：文字を認識し、不確かなものを直します。",
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

STRINGS.update(
    {
        "nav.segment": {"en": "Segment", "ja": "文字の切り出し"},
        "seg.title": {"en": "Segment: character boxes", "ja": "文字の切り出し"},
        "seg.no_scans": {"en": "No scans yet: upload some on the Scans page.", "ja": "スキャンがありません。「スキャン」で取り込んでください。"},
        "seg.scan": {"en": "Scan", "ja": "スキャン"},
        "seg.params": {"en": "Parameters", "ja": "パラメータ"},
        "seg.work_height": {"en": "Working height (px)", "ja": "処理の高さ（px）"},
        "seg.binarisation": {"en": "Binarisation", "ja": "二値化"},
        "seg.ruby_width": {"en": "Ruby: narrower than × column", "ja": "ルビとみなす幅（列幅比）"},
        "seg.merge_gap": {"en": "Merge parts closer than × character", "ja": "部品を結合する間隔（字幅比）"},
        "seg.max_aspect": {"en": "Tallest character × width", "ja": "一文字の最大の高さ（字幅比）"},
        "seg.punctuation": {"en": "Punctuation marks as boxes", "ja": "句読点も枠にする"},
        "seg.run": {"en": "Run segmentation", "ja": "切り出しを実行"},
        "seg.replace_user": {"en": "Also replace my edited boxes", "ja": "手で直した枠も置き換える"},
        "seg.ran": {"en": "{n} boxes found in {cols} columns ({ruby} ruby marks kept apart); labelled and edited boxes kept.",
                    "ja": "{cols} 列に {n} 個の枠（ルビ {ruby} 個は別扱い）。ラベル付き・手直し済みの枠は保持しました。"},
        "seg.show_order": {"en": "Show reading order", "ja": "読む順を表示"},
        "seg.mode": {"en": "Mouse", "ja": "マウス操作"},
        "seg.mode_select": {"en": "Click: select", "ja": "クリック：選択"},
        "seg.mode_add": {"en": "Drag: add a box", "ja": "ドラッグ：枠を追加"},
        "seg.selected": {"en": "Selected: {ids}", "ja": "選択中：{ids}"},
        "seg.none_selected": {"en": "Click a box to select it.", "ja": "枠をクリックして選択します。"},
        "seg.delete": {"en": "Delete", "ja": "削除"},
        "seg.merge": {"en": "Merge", "ja": "結合"},
        "seg.split": {"en": "Split", "ja": "分割"},
        "seg.clear": {"en": "Clear selection", "ja": "選択を解除"},
        "seg.apply": {"en": "Apply position", "ja": "位置を反映"},
        "seg.count": {"en": "{n} boxes ({user} edited by hand) in {cols} columns", "ja": "枠 {n} 個（手直し {user} 個）、{cols} 列"},
        "seg.steps": {"en": "Intermediate images", "ja": "途中の画像"},
        "seg.no_boxes": {"en": "No boxes yet: run the segmentation.", "ja": "枠がまだありません。切り出しを実行してください。"},
    }
)

STRINGS.update(
    {
        "nav.read": {"en": "Read", "ja": "文字の認識"},
        "read.title": {"en": "Read: recognise characters", "ja": "文字の認識"},
        "read.no_model": {"en": "No model is registered: ship models/default.keras or import one.",
                          "ja": "モデルが登録されていません。"},
        "read.run": {"en": "Read this page", "ja": "このページを認識"},
        "read.done": {"en": "{n} characters read with model “{model}”.", "ja": "モデル「{model}」で {n} 文字を認識しました。"},
        "read.not_read": {"en": "Not read yet with the active model.", "ja": "使用中のモデルではまだ認識していません。"},
        "read.transcription": {"en": "Transcription (columns right to left)", "ja": "翻刻（右の列から）"},
        "read.table": {"en": "Characters (sort by a column header; uncertain ones highlighted)",
                       "ja": "文字の一覧（見出しで並べ替え。不確かなものを強調）"},
        "read.box": {"en": "Character to check (least confident first)", "ja": "確認する文字（確信度の低い順）"},
        "read.candidates": {"en": "Top candidates — click the right one", "ja": "候補（正しいものをクリック）"},
        "read.type": {"en": "…or type the right character", "ja": "…または正しい文字を入力"},
        "read.save": {"en": "Save label", "ja": "ラベルを保存"},
        "read.saved": {"en": "Box #{id} labelled “{char}”.", "ja": "枠 #{id} に「{char}」を付けました。"},
        "read.current": {"en": "Current label: {char} ({source})", "ja": "現在のラベル：{char}（{source}）"},
        "read.uncertain": {"en": "{n} of {total} below confidence {thr:.0%}", "ja": "{total} 文字中 {n} 文字が確信度 {thr:.0%} 未満"},
    }
)

STRINGS.update(
    {
        "scans.demo": {"en": "Add the demo ledger page", "ja": "見本の台帳ページを追加"},
        "scans.demo_help": {
            "en": "A generated ledger form written with real KMNIST characters (CC BY-SA 4.0), to try the app.",
            "ja": "KMNIST の実際の文字で作った台帳様式の見本（CC BY-SA 4.0）。試用にどうぞ。",
        },
    }
)
