"""The Export page."""

STRINGS: dict[str, dict[str, str]] = {
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
    "export.fmt.xlsx": {"en": "Excel workbook (.xlsx)", "ja": "Excel ブック（.xlsx）"},
    "export.excel": {"en": "For Excel (UTF-8 with a byte-order mark)", "ja": "Excel 用（BOM 付き UTF-8）"},
    "export.excel_help": {"en": "Excel on Japanese Windows reads a CSV without the mark as Shift-JIS and shows garbled text. Leave it off for tools that do not expect the mark.", "ja": "BOM のない CSV は日本語版 Excel で Shift-JIS として読まれ、文字化けします。BOM を想定しないツールに渡すときは外してください。"},
    "export.model": {"en": "Readings of model {model}; labels given by a person override them (`source` = `user`).", "ja": "モデル {model} の認識結果。人が付けたラベルが優先されます（`source` が `user`）。"},
    "export.rows": {"en": "{n} characters, {user} labelled by a person", "ja": "{n} 文字（うち人によるラベル {user}）"},
    "export.crops": {"en": "{n} labelled crops in {k} classes", "ja": "ラベル付きの文字 {n} 枚（{k} クラス）"},
    "export.download": {"en": "Download {name}", "ja": "{name} をダウンロード"},
}
