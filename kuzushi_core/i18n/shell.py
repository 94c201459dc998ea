"""The app shell: title, navigation, sidebar, home page."""

STRINGS: dict[str, dict[str, str]] = {
    "app.title": {"en": "Kuzushi Lab", "ja": "くずし字ラボ"},
    "app.tagline": {"en": "Turn scans of handwritten ledgers into data.", "ja": "手書き台帳のスキャン画像をデータに。"},
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
    "home.counts": {"en": "{docs} documents · {scans} scans · {labels} labels", "ja": "文書 {docs} 件 · スキャン {scans} 枚 · ラベル {labels} 件"},
    "home.steps": {"en": "1. **Scans**: upload ledger pages.  \n2. **Segment**: find the characters, fix boxes by clicking.  \n3. **Read**: recognise them, correct the uncertain ones.  \n4. **Evaluate** and **Label next**: see where the model is wrong, relabel with a click.  \n5. **Augment** and **Train**: teach the model your ledger's characters, in the background.  \n6. **Models** and **Export**: keep versions; take transcriptions and tables to your analysis.", "ja": "1. **スキャン**：台帳の画像を取り込みます。  \n2. **文字の切り出し**：文字の枠を求め、クリックで直します。  \n3. **文字の認識**：文字を認識し、不確かなものを直します。  \n4. **誤りの確認**・**次にラベル付け**：モデルの誤りを見て、クリックで直します。  \n5. **データ拡張**・**再学習**：台帳の文字をモデルに教えます（裏で学習）。  \n6. **モデル**・**書き出し**：版を管理し、翻刻と表を分析に使います。"},
    "nav.segment": {"en": "Segment", "ja": "文字の切り出し"},
    "nav.read": {"en": "Read", "ja": "文字の認識"},
    "nav.augment": {"en": "Augment", "ja": "データ拡張"},
    "nav.train": {"en": "Train", "ja": "再学習"},
    "nav.evaluate": {"en": "Evaluate", "ja": "誤りの確認"},
    "nav.queue": {"en": "Label next", "ja": "次にラベル付け"},
    "nav.models": {"en": "Models", "ja": "モデル"},
    "nav.export": {"en": "Export", "ja": "書き出し"},
    "nav.ledger": {"en": "Ledger", "ja": "台帳"},
    "doc.unsorted": {"en": "Unsorted", "ja": "未分類"},
    "sidebar.name": {"en": "Your name", "ja": "あなたの名前"},
    "sidebar.name_help": {"en": "Recorded with every label, correction and training run you make in this browser "
                                 "tab, so that colleagues can see who read what. Kept in the address (`?who=…`); there "
                                 "is no password: the app serves this computer only.",
                          "ja": "このタブで付けたラベル・訂正・学習の実行に記録され、共同作業者が誰が何を読んだかを"
                                "確認できます。アドレス（`?who=…`）に保存されます。パスワードはありません（このコンピュー"
                                "タ内だけで動くアプリです）。"},
    "sidebar.no_name": {"en": "No name: your labels are recorded without one.",
                        "ja": "名前が未入力です。ラベルは名前なしで記録されます。"},
    "who.nobody": {"en": "(no name)", "ja": "（名前なし）"},
}
