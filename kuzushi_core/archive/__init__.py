"""Reading whole archives: page files in, a Parquet dataset of characters out.

The pipeline, one module a stage:

* :mod:`.sources` — SRC arguments → files → one :class:`~.sources.PageTask` per page (content hash, page index);
  a file that cannot be opened becomes one task that carries its error;
* :mod:`.stages` — segment a page, classify its characters (the same functions on every engine);
* :mod:`.sink` — the Parquet dataset: part files written whole (temporary name, then rename), the pages each part
  holds in its footer, so ``--resume`` knows what is done;
* :mod:`.engines` — ``local`` (this process, page after page, bounded memory) and ``ray`` (Ray Data stages, a model
  loaded once per actor);
* :mod:`.results` — an archive run brought into a workspace for review;
* :mod:`.cli` — ``read-archive`` and ``import-results``.
"""

from kuzushi_core.archive.engines import ReadSummary, read_archive
from kuzushi_core.archive.sink import SCHEMA, done_pages, read_dataset
from kuzushi_core.archive.sources import PageTask, expand_sources, plan_tasks

__all__ = ["SCHEMA", "PageTask", "ReadSummary", "done_pages", "expand_sources", "plan_tasks", "read_archive",
           "read_dataset"]
