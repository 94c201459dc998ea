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
              "3. **Read**: recognise them, correct the uncertain ones.  \n"
              "4. **Evaluate** and **Label next**: see where the model is wrong, relabel with a click.  \n"
              "5. **Augment** and **Train**: teach the model your ledger's characters, in the background.  \n"
              "6. **Models** and **Export**: keep versions; take transcriptions and tables to your analysis.",
        "ja": "1. **スキャン**：台帳の画像を取り込みます。  \n2. **文字の切り出し**：文字の枠を求め、クリックで直します。  \n"
              "3. **文字の認識**：文字を認識し、不確かなものを直します。  \n"
              "4. **誤りの確認**・**次にラベル付け**：モデルの誤りを見て、クリックで直します。  \n"
              "5. **データ拡張**・**再学習**：台帳の文字をモデルに教えます（裏で学習）。  \n"
              "6. **モデル**・**書き出し**：版を管理し、翻刻と表を分析に使います。",
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


#: where the UI language is kept between browser sessions: the URL (``?lang=en``, so a bookmark or a shared link
#: keeps it) and the workspace's settings (the language last chosen, for a new tab or a bare address)
QUERY_KEY = "lang"
SETTING_KEY = "ui.language"


def choose_language(*candidates: object) -> str:
    """The first of ``candidates`` that is a known language code, else :data:`DEFAULT_LANGUAGE`.

    Called with the URL's ``lang`` first and the workspace's saved choice second; anything else
    (a typo in a link, ``None``) is passed over.
    """
    for c in candidates:
        if isinstance(c, (list, tuple)):  # a query parameter given twice
            c = c[-1] if c else None
        if isinstance(c, str) and c.strip().lower() in LANGUAGES:
            return c.strip().lower()
    return DEFAULT_LANGUAGE


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
        "seg.running": {"en": "Segmenting…", "ja": "切り出し中…"},
        "seg.method": {"en": "Method", "ja": "方法"},
        "seg.method_columns": {"en": "Columns (image only)", "ja": "列の解析（画像のみ）"},
        "seg.method_columns_reading": {"en": "Columns, then joined and split by reading",
                                       "ja": "列の解析＋読みによる結合・分割"},
        "seg.made_by": {"en": "made by: {method}", "ja": "作成方法：{method}"},
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
        "aug.synth": {"en": "Synthetic glyphs: a character in the brush fonts, made to look like a crop of a scan",
                      "ja": "合成字形：毛筆フォントの文字を、スキャンから切り出した字のように加工"},
        "aug.synth_help": {"en": "The reader's training renders: each font that writes the character, then brush-and-"
                                 "paper augmentation (elastic distortion, stroke width, ink density and bleed, blur, "
                                 "rotation and shear, paper tint and noise, jittered box margins, neighbours' strokes "
                                 "at the edge).",
                           "ja": "認識モデルの学習用の合成字形です。その文字を書けるフォントごとに描き、筆と紙の加工"
                                 "（弾性変形・線の太さ・墨の濃さとにじみ・ぼかし・回転と傾き・紙の色とノイズ・枠の余白の"
                                 "揺れ・上下の字の筆画）を加えます。"},
        "aug.synth_char": {"en": "Character", "ja": "文字"},
        "aug.synth_none": {"en": "No installed font writes “{char}”.", "ja": "「{char}」を書けるフォントがありません。"},
        "aug.synth_faces": {"en": "Fonts: {faces}", "ja": "フォント：{faces}"},
        "train.synth": {"en": "New characters from brush fonts (no crops needed)", "ja": "毛筆フォントから学ぶ新しい文字（切り出し不要）"},
        "train.synth_help": {"en": "Type characters the model lacks: each is learned from 300 renders in the fonts that "
                                   "write it, and refined later with real crops as they are labelled.",
                             "ja": "モデルにない文字を入力します。書けるフォントの合成字形300枚から学び、後でラベル付けした"
                                   "実際の切り出しで磨きます。"},
        "train.synth_rehearsal": {"en": "Font renders per base class (rehearsal)", "ja": "元のクラスごとの合成字形（復習）"},
        "train.synth_rehearsal_help": {"en": "Keeps a model of thousands of characters from forgetting the ones this "
                                             "run has no crops of. Their features are computed once per base model "
                                             "and kept (a few minutes the first time), so a run costs seconds.",
                                       "ja": "数千字のモデルが、今回切り出しのない文字を忘れないようにします。特徴量は元のモデルごとに"
                                             "一度だけ計算して保存します（初回は数分）。"},
        "train.no_rehearsal": {"en": "Rehearsal is off: the new version will likely forget characters that are not in "
                                     "this run's crops (seen: a reader that read most of a page as 。). It becomes "
                                     "active only if it is not worse than its parent on the held-out crops, KMNIST "
                                     "and renders of every character.",
                               "ja": "復習がオフです。今回の切り出しにない文字を忘れる恐れがあります（例：ページの大半を「。」と"
                                     "読むモデル）。検証用の切り出し・KMNIST・全文字の描画で元のモデルより劣らない場合だけ使用中になります。"},
        "read.more": {"en": "Longer candidate list (20)", "ja": "候補をもっと表示（20）"},
        "read.no_fonts": {"en": "Brush fonts are not installed, so candidates are shown as text only (missing: "
                                "{packages}; scripts/install_fonts.sh installs them).",
                          "ja": "毛筆フォントが入っていないため、候補は文字だけで表示します（不足：{packages}。"
                                "scripts/install_fonts.sh で入ります）。"},
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
        "scans.demo_registers": {"en": "Add demo register pages (for the Ledger page)",
                                 "ja": "見本の土地台帳ページを追加（「台帳」ページ用）"},
        "scans.demo_registers_help": {
            "en": "Three generated registers with brush-font entries: two 土地台帳 pages of one printed form and a "
                  "名寄帳 page, to try templates and lots.",
            "ja": "毛筆フォントで書いた生成台帳 3 枚：同じ様式の土地台帳 2 枚と名寄帳 1 枚。テンプレートと一筆表の試用に。"},
        "scans.demo_help": {
            "en": "A generated ledger form written with real KMNIST characters (CC BY-SA 4.0), to try the app.",
            "ja": "KMNIST の実際の文字で作った台帳様式の見本（CC BY-SA 4.0）。試用にどうぞ。",
        },
    }
)

STRINGS.update(
    {
        "nav.augment": {"en": "Augment", "ja": "データ拡張"},
        "nav.train": {"en": "Train", "ja": "再学習"},
        "nav.evaluate": {"en": "Evaluate", "ja": "誤りの確認"},
        "nav.queue": {"en": "Label next", "ja": "次にラベル付け"},
        "nav.models": {"en": "Models", "ja": "モデル"},
        "nav.export": {"en": "Export", "ja": "書き出し"},
        "nav.ledger": {"en": "Ledger", "ja": "台帳"},
        "ledger.title": {"en": "Ledger: the lots of a register page", "ja": "台帳：ページの土地一筆ごとの表"},
        "ledger.intro": {"en": "Mark the form's fields once per volume (a template), read each page into lots "
                               "(字, 地番, 地目, 反別, 地価, 地租 …) with parsed, cross-checked numbers, fix a flagged value "
                               "by clicking the right character, export the table.",
                         "ja": "冊ごとに一度、様式の欄を指定（テンプレート）し、各ページを一筆ごとの表（字・地番・地目・反別・"
                               "地価・地租 …）に読み取ります。数値は解析・照合され、疑わしい値は正しい文字をクリックして直せます。"},
        "ledger.finding_cells": {"en": "Finding the form's ruled cells …", "ja": "罫線の枠を検出しています …"},
        "ledger.cells": {"en": "{n} ruled cells (skew {angle:+.2f}°). Click a cell to select it.",
                         "ja": "罫線の枠 {n} 個（傾き {angle:+.2f}°）。枠をクリックして選びます。"},
        "ledger.template": {"en": "Template (this volume's form)", "ja": "テンプレート（この冊の様式）"},
        "ledger.no_template": {"en": "— none —", "ja": "― なし ―"},
        "ledger.editor": {"en": "Template editor", "ja": "テンプレートの編集"},
        "ledger.editor_help": {"en": "On one page: click a cell, choose its field and lot, Assign; repeat; Save. The "
                                     "template is placed on the volume's other pages by their own ruling.",
                               "ja": "1 ページで：枠をクリックし、欄と筆番号を選んで「割り当て」。繰り返して「保存」。"
                                     "他のページには、そのページの罫線に合わせて当てはめます。"},
        "ledger.selected": {"en": "Selected: cell #{i}", "ja": "選択中：枠 #{i}"},
        "ledger.select_cell": {"en": "No cell selected.", "ja": "枠が選ばれていません。"},
        "ledger.field": {"en": "Field", "ja": "欄"},
        "ledger.lot": {"en": "Lot", "ja": "筆"},
        "ledger.assign": {"en": "Assign", "ja": "割り当て"},
        "ledger.template_name": {"en": "Template name", "ja": "テンプレート名"},
        "ledger.save_template": {"en": "Save template", "ja": "テンプレートを保存"},
        "ledger.saved": {"en": "Template “{name}” saved.", "ja": "テンプレート「{name}」を保存しました。"},
        "ledger.read": {"en": "Read this page with the template", "ja": "このテンプレートでページを読む"},
        "ledger.reading": {"en": "Reading the field cells …", "ja": "欄を読み取っています …"},
        "ledger.read_done": {"en": "{n} characters read.", "ja": "{n} 文字を読み取りました。"},
        "ledger.lots": {"en": "Lots", "ja": "一筆ごとの表"},
        "ledger.csv": {"en": "Download lots (CSV)", "ja": "表をダウンロード（CSV）"},
        "ledger.json": {"en": "Download lots (JSON)", "ja": "表をダウンロード（JSON）"},
        "ledger.flagged": {"en": "{n} flagged values: click the right character or type the value",
                           "ja": "疑わしい値 {n} 件：正しい文字をクリックするか、値を入力してください"},
        "ledger.type": {"en": "Text of the field", "ja": "欄の文字"},
        "ledger.save": {"en": "Save", "ja": "保存"},
        "ledger.no_flags": {"en": "Every value parses and the checks agree.", "ja": "すべての値が解析でき、照合も一致しました。"},
        # Train
        "train.title": {"en": "Retrain the classifier", "ja": "分類器の再学習"},
        "train.intro": {
            "en": "Teach the model your ledger's characters from your corrected labels. Training runs in the "
                  "background: you can leave this page, reload it or open it in a second tab.",
            "ja": "修正したラベルから台帳の文字をモデルに教えます。学習は裏で動くので、ページを離れても再読み込みしても構いません。",
        },
        "train.model": {"en": "Model", "ja": "モデル"},
        "train.mode": {"en": "Mode", "ja": "方式"},
        "train.mode.feature-extraction": {"en": "Feature extraction (retrain the head)",
                                          "ja": "特徴抽出（分類部だけ学習）"},
        "train.mode.fine-tune": {"en": "Fine-tuning (also the top conv blocks)", "ja": "ファインチューニング（上位の畳み込みも）"},
        "train.mode.scratch": {"en": "From scratch (new CNN)", "ja": "ゼロから（新しい CNN）"},
        "train.no_base": {"en": "No model is registered to start from.", "ja": "元にするモデルがありません。"},
        "train.base": {"en": "Base model", "ja": "元のモデル"},
        "train.unfreeze": {"en": "Conv blocks to unfreeze (from the top)", "ja": "学習させる畳み込みブロック数（上から）"},
        "train.keep_old": {"en": "Keep the base model's classes", "ja": "元のモデルのクラスを残す"},
        "train.data": {"en": "Data", "ja": "データ"},
        "train.workspace_labels": {"en": "Workspace labels ({n})", "ja": "ワークスペースのラベル（{n} 件）"},
        "train.kmnist": {"en": "KMNIST images per old class (rehearsal)", "ja": "KMNIST の画像（旧クラスごと）"},
        "train.kmnist_help": {"en": "Keeps the old classes from being forgotten. 0 = none.",
                              "ja": "旧クラスを忘れないように混ぜます。0 なら使いません。"},
        "train.zip": {"en": "Crops as a zip of class folders", "ja": "クラス別フォルダの zip"},
        "train.zip_help": {"en": "One folder per character, named after it (あ/001.png, 畑/002.png, …), zipped on your "
                                 "computer. A train/ folder beside test/ is used alone: test crops never go into "
                                 "training.",
                           "ja": "文字ごとに 1 フォルダ（フォルダ名が文字：あ/001.png、畑/002.png …）を zip にしたもの。"
                                 "train/ と test/ があれば train/ だけを使います（テストの画像は学習に入れません）。"},
        "train.zip_got": {"en": "{name}: {k} classes, {n} images ({chars})",
                          "ja": "{name}：{k} クラス、{n} 枚（{chars}）"},
        "train.folders": {"en": "Folders of class folders on the server (one path per line)",
                          "ja": "サーバー上のクラス別フォルダ（1 行に 1 つ）"},
        "train.folders_help": {"en": "Folder name = the character; crops in either polarity.",
                               "ja": "フォルダ名が文字です。白黒どちらの向きの画像でも構いません。"},
        "train.protocol": {"en": "Protocol", "ja": "検証と設定"},
        "train.validation": {"en": "Validation", "ja": "検証"},
        "train.holdout": {"en": "Holdout", "ja": "ホールドアウト"},
        "train.kfold": {"en": "k-fold cross-validation", "ja": "k 分割交差検証"},
        "train.kfold_help": {"en": "Off: one stratified holdout split. On: every fold trained, mean ± std reported, "
                                   "the best fold's model kept.",
                             "ja": "オフ：層化ホールドアウト。オン：全分割を学習し平均±標準偏差を報告、最良の分割のモデルを残します。"},
        "train.holdout_pct": {"en": "Validation share (%)", "ja": "検証に回す割合（%）"},
        "train.folds": {"en": "Folds", "ja": "分割数"},
        "train.augment": {"en": "Augmentation config", "ja": "データ拡張の設定"},
        "train.augment_none": {"en": "the model's own (built in)", "ja": "モデル内蔵のもの"},
        "train.epochs": {"en": "Epochs", "ja": "エポック数"},
        "train.batch": {"en": "Batch size", "ja": "バッチサイズ"},
        "train.patience": {"en": "Early-stopping patience", "ja": "早期終了の猶予"},
        "train.patience_help": {"en": "Stop when the validation loss has not improved for this many epochs; the best "
                                      "epoch's weights are kept.",
                                "ja": "検証損失がこのエポック数改善しなければ止めます。最良のエポックの重みを残します。"},
        "train.lr": {"en": "Learning rate", "ja": "学習率"},
        "train.counts": {"en": "Training crops per character: {n} in {k} classes",
                         "ja": "文字ごとの学習画像：{k} クラス、計 {n} 枚"},
        "train.small": {"en": "Fewer than {min} crops: {chars} — these will be learned poorly; label more of them.",
                        "ja": "{min} 枚未満：{chars} — うまく学習できません。もっとラベルを付けてください。"},
        "train.name": {"en": "Name of the new model version (optional)", "ja": "新しいモデルの名前（任意）"},
        "train.start": {"en": "Start training (about {minutes:.1f} min of CPU)", "ja": "学習を開始（CPU で約 {minutes:.1f} 分）"},
        "train.queued": {"en": "Run #{id} queued; it starts when the worker is free.",
                         "ja": "実行 #{id} を登録しました。順番に始まります。"},
        "train.runs": {"en": "Runs", "ja": "学習の実行"},
        "train.no_runs": {"en": "No training runs yet.", "ja": "まだ学習していません。"},
        "train.run": {"en": "Run", "ja": "実行"},
        "train.cancel": {"en": "Cancel", "ja": "中止"},
        "train.eta": {"en": "about {s:.0f} s left", "ja": "残り約 {s:.0f} 秒"},
        "train.error": {"en": "The run failed: {error}", "ja": "失敗しました：{error}"},
        "train.completed": {"en": "Done: model #{model} registered (validation accuracy {acc:.3f}, {s:.0f} s).",
                            "ja": "完了：モデル #{model} を登録しました（検証正解率 {acc:.3f}、{s:.0f} 秒）。"},
        "train.compare": {"en": "Overlay other runs", "ja": "他の実行と重ねる"},
        "train.loss": {"en": "Loss", "ja": "損失"},
        "train.accuracy": {"en": "Accuracy", "ja": "正解率"},
        "train.epoch": {"en": "epoch", "ja": "エポック"},
        "train.train": {"en": "train", "ja": "学習"},
        "train.val": {"en": "validation", "ja": "検証"},
        "train.overfit": {
            "en": "Overfitting: after epoch {epoch} the validation loss rises while the training loss falls. "
                  "The best checkpoint (lowest validation loss) is the one kept.",
            "ja": "過学習：エポック {epoch} の後、学習損失は下がるのに検証損失が上がっています。検証損失が最小の重みを残します。",
        },
        "train.waiting": {"en": "Waiting for the first epoch…", "ja": "最初のエポックを待っています…"},
        "train.status.queued": {"en": "queued", "ja": "待機中"},
        "train.status.running": {"en": "running", "ja": "実行中"},
        "train.status.completed": {"en": "completed", "ja": "完了"},
        "train.status.failed": {"en": "failed", "ja": "失敗"},
        "train.status.cancelled": {"en": "cancelled", "ja": "中止"},
        # Augment
        "aug.title": {"en": "Augmentation preview", "ja": "データ拡張のプレビュー"},
        "aug.intro": {"en": "See what training will see: every knob applied to your own crops.",
                      "ja": "学習で使う変形を、自分の文字画像で確かめます。"},
        "aug.source": {"en": "Crops", "ja": "文字画像"},
        "aug.random": {"en": "random boxes of the workspace", "ja": "ワークスペースからランダム"},
        "aug.no_crops": {"en": "No boxes yet: segment a scan first (or add the demo page on the Scans page).",
                         "ja": "まだ枠がありません。先に文字を切り出してください。"},
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
)

STRINGS.update(
    {
        # Evaluate
        "eval.title": {"en": "Evaluate: where is the model wrong?", "ja": "誤りの確認：どこで間違えているか"},
        "eval.model": {"en": "Model", "ja": "モデル"},
        "eval.set": {"en": "Labelled set", "ja": "評価するデータ"},
        "eval.set.workspace": {"en": "workspace labels (your ledger)", "ja": "ワークスペースのラベル（台帳）"},
        "eval.set.kmnist": {"en": "KMNIST test set (10,000)", "ja": "KMNIST テスト（1 万枚）"},
        "eval.compare_with": {"en": "Compare with version", "ja": "比べるモデル"},
        "eval.none": {"en": "—", "ja": "—"},
        "eval.running": {"en": "Classifying the labelled crops…", "ja": "ラベル付きの文字を分類しています…"},
        "eval.no_labels": {"en": "No labelled characters yet: label some on the Read page (or import annotations).",
                           "ja": "ラベル付きの文字がまだありません。認識ページでラベルを付けてください。"},
        "eval.accuracy": {"en": "Accuracy", "ja": "正解率"},
        "eval.in_vocab": {"en": "Accuracy (known chars)", "ja": "正解率（既知の文字）"},
        "eval.in_vocab_help": {"en": "Only the characters that are among the model's classes.",
                               "ja": "モデルのクラスにある文字だけで数えます。"},
        "eval.n": {"en": "Labelled", "ja": "件数"},
        "eval.oov": {"en": "Unknown to the model", "ja": "モデルにない文字"},
        "eval.oov_help": {"en": "Labels outside the model's classes: it cannot get these right; add them by retraining.",
                          "ja": "モデルのクラスにないラベル。再学習で追加しないと正解できません。"},
        "eval.pairs": {"en": "Most confused:", "ja": "よく取り違える組："},
        "eval.confusion": {"en": "Confusion matrix — click a cell", "ja": "混同行列（セルをクリック）"},
        "eval.cell_hover": {"en": "true %{y} → predicted %{x}: %{text}", "ja": "正解 %{y} → 予測 %{x}：%{text}"},
        "eval.predicted": {"en": "predicted", "ja": "予測"},
        "eval.true": {"en": "true", "ja": "正解"},
        "eval.per_class": {"en": "Per class", "ja": "クラスごと"},
        "eval.ideal": {"en": "ideal", "ja": "理想"},
        "eval.reliability": {"en": "Reliability", "ja": "信頼度の較正"},
        "eval.confidence": {"en": "confidence", "ja": "確信度"},
        "eval.cell_title": {"en": "True {true}, predicted {pred}: {n}", "ja": "正解 {true}・予測 {pred}：{n} 件"},
        "eval.clear": {"en": "Show all errors", "ja": "すべての誤りを表示"},
        "eval.gallery": {"en": "Misclassified, highest loss first ({n})", "ja": "誤分類（損失の大きい順、{n} 件）"},
        "eval.fix": {"en": "right character", "ja": "正しい文字"},
        "eval.save_help": {"en": "Save the typed character", "ja": "入力した文字を保存"},
        "eval.take_help": {"en": "The model is right: relabel with its prediction", "ja": "予測が正しい：予測でラベルを直す"},
        "eval.remove_help": {"en": "Leave this box out of training and evaluation", "ja": "この枠を学習と評価から外す"},
        "eval.removed": {"en": "Box #{id} is left out of training and evaluation.", "ja": "枠 #{id} を学習と評価から外しました。"},
        "eval.on_page": {"en": "On the page", "ja": "ページで見る"},
        "eval.none_wrong": {"en": "No errors here.", "ja": "誤りはありません。"},
        "eval.versions": {"en": "“{b}” → “{a}”: what changed", "ja": "「{b}」→「{a}」の違い"},
        "eval.versions_counts": {"en": "fixed {fixed} · broke {broke} · wrong in both {both}",
                                 "ja": "直った {fixed} · 壊れた {broke} · 両方誤り {both}"},
        "eval.fixed": {"en": "Fixed", "ja": "直った"},
        "eval.broke": {"en": "Broke", "ja": "壊れた"},
        # Queue
        "queue.title": {"en": "Label these next", "ja": "次にラベルを付ける文字"},
        "queue.intro": {"en": "The unlabelled characters across the workspace, in the chosen order. Type a character and "
                              "press Enter; 1–5 picks a candidate; Enter alone accepts the model's reading.",
                        "ja": "ラベルのない文字を、選んだ順に。文字を入力して Enter、1〜5 で候補を選択、空のまま Enter で予測を採用。"},
        "queue.empty": {"en": "Nothing to label: read some pages first, or everything read is labelled.",
                        "ja": "ラベル待ちの文字はありません。"},
        "queue.count": {"en": "{n} characters waiting", "ja": "{n} 文字が待っています"},
        "queue.scan": {"en": "scan", "ja": "スキャン"},
        "queue.skip": {"en": "Skip", "ja": "飛ばす"},
        "queue.type": {"en": "Character, or 1–5", "ja": "文字、または 1〜5"},
        "queue.next": {"en": "Next up", "ja": "この後"},
        # Models
        "models.title": {"en": "Models", "ja": "モデル"},
        "models.none": {"en": "No model registered.", "ja": "モデルが登録されていません。"},
        "models.col.id": {"en": "#", "ja": "#"},
        "models.col.name": {"en": "name", "ja": "名前"},
        "models.col.active": {"en": "active", "ja": "使用中"},
        "models.col.parent": {"en": "parent", "ja": "親"},
        "models.col.classes": {"en": "classes", "ja": "クラス"},
        "models.col.metrics": {"en": "metrics", "ja": "指標"},
        "models.col.data": {"en": "data", "ja": "データ"},
        "models.col.created": {"en": "created", "ja": "作成"},
        "models.choose": {"en": "Version", "ja": "バージョン"},
        "models.activate": {"en": "Set active", "ja": "使用する"},
        "models.rollback": {"en": "Roll back", "ja": "元に戻す"},
        "models.activated": {"en": "Active model: {name}", "ja": "使用中のモデル：{name}"},
        "models.export": {"en": "Export .keras + model card", "ja": ".keras とモデルカードを書き出す"},
        "models.missing": {"en": "The model file is missing: {error}", "ja": "モデルのファイルがありません：{error}"},
        "models.card": {"en": "Model card", "ja": "モデルカード"},
        "models.import": {"en": "Import a model", "ja": "モデルの取り込み"},
        "models.import_help": {
            "en": "A .keras file with its .json card. It is opened with Keras safe mode (no code is run) and its input "
                  "shape and classes are checked; a refused file changes nothing.",
            "ja": ".keras と .json（モデルカード）。安全モードで開き、入力の形とクラスを確認します。拒否された場合は何も変わりません。",
        },
        "models.files": {"en": "Model file and card", "ja": "モデルとカード"},
        "models.name": {"en": "Name", "ja": "名前"},
        "models.import_button": {"en": "Import", "ja": "取り込む"},
        "models.need_one": {"en": "Choose exactly one .keras file (and its .json card).",
                            "ja": ".keras ファイルを 1 つ（と .json カード）選んでください。"},
        "models.refused": {"en": "Refused: {error}", "ja": "取り込めません：{error}"},
        "models.imported": {"en": "Imported “{name}” ({n} classes).", "ja": "「{name}」を取り込みました（{n} クラス）。"},
        # Export
        "export.title": {"en": "Export", "ja": "書き出し"},
        "export.pages": {"en": "Pages", "ja": "ページ"},
        "export.all": {"en": "all pages of the document", "ja": "文書のすべてのページ"},
        "export.format": {"en": "Format", "ja": "形式"},
        "export.fmt.csv": {"en": "CSV (per character)", "ja": "CSV（文字ごと）"},
        "export.fmt.json": {"en": "JSON", "ja": "JSON"},
        "export.fmt.text": {"en": "Text", "ja": "テキスト"},
        "export.fmt.pagexml": {"en": "PAGE XML", "ja": "PAGE XML"},
        "export.fmt.npz": {"en": "npz (labelled)", "ja": "npz（ラベル付き）"},
        "export.fmt.crops": {"en": "crops zip", "ja": "文字画像 zip"},
        "export.model": {"en": "Readings of model {model}; labels given by a person override them (source “user”).",
                         "ja": "モデル {model} の認識結果。人が付けたラベルが優先されます（source “user”）。"},
        "export.rows": {"en": "{n} characters, {user} labelled by a person", "ja": "{n} 文字（うち人によるラベル {user}）"},
        "export.crops": {"en": "{n} labelled crops in {k} classes", "ja": "ラベル付きの文字 {n} 枚（{k} クラス）"},
        "export.download": {"en": "Download {name}", "ja": "{name} をダウンロード"},
        # Read: annotations
        "read.annotations": {"en": "Import annotations (CODH coordinate CSV)", "ja": "注釈の取り込み（CODH 座標 CSV）"},
        "read.annotations_go": {"en": "Import labels", "ja": "ラベルを取り込む"},
        "read.annotations_help": {"en": "Labels existing transcriptions onto this page's boxes (source “import”); a "
                                        "label a person gave is kept.",
                                  "ja": "既存の翻刻をこのページの枠にラベルとして付けます。人が付けたラベルは残します。"},
        "read.annotations_done": {"en": "{labelled} boxes labelled, {added_boxes} boxes added, {kept_user_labels} "
                                        "labels by a person kept.",
                                  "ja": "{labelled} 枠にラベル、{added_boxes} 枠を追加、人のラベル {kept_user_labels} 件はそのまま。"},
    }
)

STRINGS.update(
    {
        # Learn from my corrections (Read and Label next pages; kuzushi_core.train.adapt)
        "learn.title": {"en": "Learn from my corrections", "ja": "直したラベルから学ぶ"},
        "learn.help": {"en": "Trains a new version of the active model on this document's labels and its unlabelled "
                             "pages (in the background, usually well under a minute once the base's rehearsal cache "
                             "exists). A share of your labels is held out: both versions are scored on it, and the new "
                             "one becomes active only when it is not worse.",
                       "ja": "この文書のラベルと未ラベルのページから、使用中のモデルの新しい版を学習します（裏で実行、通常"
                             "1 分以内）。ラベルの一部は学習に使わず取り分け、両方の版をそれで採点し、新しい版が劣らない"
                             "ときだけ使用中にします。"},
        "learn.go": {"en": "Learn from my corrections ({n} labels)", "ja": "直したラベルから学ぶ（ラベル {n} 件）"},
        "learn.none": {"en": "Label a few characters first.", "ja": "まず何文字かラベルを付けてください。"},
        "learn.running": {"en": "Learning: {stage}", "ja": "学習中：{stage}"},
        "learn.queued": {"en": "Queued: learning starts in a moment.", "ja": "待機中：まもなく学習を始めます。"},
        "learn.failed": {"en": "Learning failed: {error}. Your labels are untouched.",
                         "ja": "学習に失敗しました：{error}。ラベルはそのままです。"},
        "learn.scores": {"en": "Held-out labels ({n}): current version {parent:.0%} → new version {new:.0%}",
                         "ja": "取り分けたラベル（{n} 件）：今の版 {parent:.0%} → 新しい版 {new:.0%}"},
        "learn.old": {"en": "Characters it already read (KMNIST validation {kp:.1%} → {kn:.1%}; renders of every "
                            "character {rp:.1%} → {rn:.1%})",
                      "ja": "既に読めていた文字（KMNIST 検証 {kp:.1%} → {kn:.1%}、全文字の描画 {rp:.1%} → {rn:.1%}）"},
        "learn.activated": {"en": "The new version #{id} is active; the document was re-read: {changed} readings "
                                  "changed, {fixed} now agree with a label.",
                            "ja": "新しい版 #{id} を使用中にし、文書を読み直しました：{changed} 文字が変わり、{fixed} 文字が"
                                  "ラベルと一致しました。"},
        "learn.kept": {"en": "The new version #{id} was not made active (the current version stays): {why}",
                       "ja": "新しい版 #{id} は使用中にしていません（今の版のまま）：{why}"},
        "learn.activate": {"en": "Make version #{id} active anyway", "ja": "版 #{id} を使用中にする"},
        "learn.made_active": {"en": "Version #{id} is now active.", "ja": "版 #{id} を使用中にしました。"},
        "learn.worse_why": {"en": "it is worse than the current version", "ja": "今の版より劣ります"},
            "read.type_help": {"en": "Enter saves and moves on: a digit 1–9 picks that candidate, an empty field accepts "
                                 "the reading, anything else is the label.",
                           "ja": "Enter で保存して次へ：数字 1〜9 はその候補、空欄は認識結果のまま、それ以外はそのままラベルに。"},
        "queue.order": {"en": "Order", "ja": "順番"},
        "queue.order.gain": {"en": "most to learn first (uncertainty × how often its candidates occur here)",
                             "ja": "学びの多い順（不確かさ × 候補がこの文書に出る回数）"},
        "queue.order.uncertainty": {"en": "least sure first", "ja": "確信の低い順"},
        "queue.order.random": {"en": "random", "ja": "ランダム"},
        "queue.context": {"en": "The column around it", "ja": "前後の文字（同じ列）"},
            "eval.kind.correction": {"en": "on corrections ({n})", "ja": "直したラベル（{n}）"},
        "eval.kind.confirmation": {"en": "on confirmations ({n})", "ja": "確かめたラベル（{n}）"},
        "eval.kind.unread": {"en": "on labels given before any reading ({n})", "ja": "認識前のラベル（{n}）"},
        "eval.kind_help": {"en": "A correction is a label that differs from the reading shown when it was given: the "
                                 "model that showed that reading scores 0 on corrections by construction, so compare "
                                 "versions there, not with that model's own overall accuracy.",
                           "ja": "「直したラベル」は、付けたときに表示されていた読みと違うラベルです。その読みを出したモデルは"
                                 "直したラベルで必ず 0 点になるので、版どうしの比較に使ってください。"},
    }
)
