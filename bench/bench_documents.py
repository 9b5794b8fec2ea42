"""Documents: what storing, reading, type detection and text extraction cost (decision 0013).

Usage (from the repository root)::

    .venv/bin/python bench/bench_documents.py
    CRMPM_BENCH_POSTGRES=postgresql+psycopg://… .venv/bin/python bench/bench_documents.py   # and PostgreSQL

Measured in one run, each against a peer:

- *storage*: a 5 MiB file put and read back, committed, by each backend (SQLite database, a directory,
  an S3 bucket served by moto on 127.0.0.1; PostgreSQL when a URL is given), against writing and reading the
  same bytes as a plain file (the ceiling);
- *type detection*: ``crmpm.files.content.detect`` (filetype's signatures + a look into ZIPs) against
  libmagic through ``file --mime-type`` (the peer a server could call instead), per file;
- *text extraction*: ``crmpm.files.text.extract`` on a DOCX written by python-docx and the PDF LibreOffice
  makes of it (1 and 60 pages), against reading the same bytes (``len``) — what extraction adds to an upload.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

SIZE = 5 * 1024 * 1024


def best(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def storage_rows(folder: Path) -> list[tuple[str, float, float]]:
    import os

    from sqlalchemy.orm import Session

    from crmpm.database import Base, make_engine
    from crmpm.files import storage
    from crmpm.files.models import FileBlob

    data = os.urandom(SIZE)
    rows = []
    plain = folder / "plain.bin"

    def write_plain():
        plain.write_bytes(data)

    rows.append(("plain file (ceiling)", best(write_plain), best(plain.read_bytes)))
    configs = {"database (SQLite)": ({"DOCUMENT_STORAGE": "database"}, f"sqlite:///{folder / 'bench.db'}"),
               "directory": ({"DOCUMENT_STORAGE": "directory", "DOCUMENT_DIR": str(folder / "docs")},
                             f"sqlite:///{folder / 'bench2.db'}")}
    server = None
    try:
        from moto.server import ThreadedMotoServer

        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        s3 = {"DOCUMENT_STORAGE": "s3", "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "S3_BUCKET": "bench",
              "S3_ACCESS_KEY_ID": "x", "S3_SECRET_ACCESS_KEY": "x", "S3_REGION": "us-east-1"}
        configs["S3 (moto, 127.0.0.1)"] = (s3, f"sqlite:///{folder / 'bench3.db'}")
    except ImportError:
        pass
    postgres = os.environ.get("CRMPM_BENCH_POSTGRES")
    if postgres:
        configs["database (PostgreSQL)"] = ({"DOCUMENT_STORAGE": "database"}, postgres)
    for name, (config, url) in configs.items():
        engine = make_engine(url)
        Base.metadata.create_all(engine, tables=[FileBlob.__table__])
        if config["DOCUMENT_STORAGE"] == "s3":
            storage.backend_for(type("S", (), {"info": {"crmpm.config": config}})()).client.create_bucket(Bucket="bench")
        made = []

        def put():
            with Session(engine, info={"crmpm.config": config}) as session:
                blob = storage.put(session, data)
                session.commit()
                made.append(blob.id)

        def read():
            with Session(engine, info={"crmpm.config": config}) as session:
                blob = session.get(FileBlob, made[-1])
                assert len(storage.read(session, blob)) == SIZE

        rows.append((name, best(put), best(read)))
        if postgres and url == postgres:
            FileBlob.__table__.drop(engine)
        engine.dispose()
    if server is not None:
        server.stop()
    return rows


def real_files(folder: Path) -> dict[str, bytes]:
    import docx

    files = {}
    for pages in (1, 60):
        document = docx.Document()
        for page in range(pages):
            document.add_heading(f"Раздел {page + 1}", level=1)
            for _ in range(12):
                document.add_paragraph("Поставка экскаватора для объекта в Петрозаводске, этап работ и оплата "
                                       "по акту выполненных работ. " * 3)
            if page + 1 < pages:
                document.add_page_break()
        source = folder / f"doc{pages}.docx"
        document.save(source)
        files[f"DOCX {pages} p."] = source.read_bytes()
        soffice = shutil.which("soffice") or ("/usr/bin/soffice" if Path("/usr/bin/soffice").exists() else None)
        if soffice:
            subprocess.run([soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
                            "--convert-to", "pdf", "--outdir", str(folder), str(source)], check=True,
                           capture_output=True, timeout=300)
            files[f"PDF {pages} p."] = (folder / f"doc{pages}.pdf").read_bytes()
    png = io.BytesIO()
    png.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000)
    files["PNG"] = png.getvalue()
    files["CSV"] = ("a;b;c\n" * 20_000).encode()
    return files


def detection_rows(files: dict[str, bytes], folder: Path) -> list[tuple[str, float, float | None, str, str]]:
    from crmpm.files.content import detect

    extensions = {"DOCX": "docx", "PDF": "pdf", "PNG": "png", "CSV": "csv"}
    rows = []
    for name, data in files.items():
        extension = extensions[name.split()[0]]
        ours = best(lambda: detect(data, f"x.{extension}"), 20)
        path = folder / f"probe.{extension}"
        path.write_bytes(data)
        magic = None
        their_type = ""
        if shutil.which("file"):
            magic = best(lambda: subprocess.run(["file", "--brief", "--mime-type", str(path)], check=True,
                                                capture_output=True), 5)
            their_type = subprocess.run(["file", "--brief", "--mime-type", str(path)], capture_output=True,
                                        text=True).stdout.strip()
        rows.append((name, ours, magic, detect(data, f"x.{extension}").content_type, their_type))
    return rows


def extraction_rows(files: dict[str, bytes]) -> list[tuple[str, int, float, int]]:
    from crmpm.files.text import extract

    types = {"DOCX": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "PDF": "application/pdf"}
    rows = []
    for name, data in files.items():
        kind = types.get(name.split()[0])
        if kind:
            rows.append((name, len(data), best(lambda: extract(data, kind), 3), len(extract(data, kind))))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        print(f"Storage: a {SIZE // (1024 * 1024)} MiB file, best of 5 (seconds)")
        print(f"{'backend':28} {'put+commit':>12} {'read':>10}")
        for name, put, read in storage_rows(folder):
            print(f"{name:28} {put:12.4f} {read:10.4f}")
        files = real_files(folder)
        print("\nType detection, best of 20 / 5 (milliseconds)")
        print(f"{'file':12} {'size':>10} {'detect':>9} {'file(1)':>9}  ours / libmagic")
        for name, ours, magic, our_type, their_type in detection_rows(files, folder):
            magic_text = f"{magic * 1000:9.2f}" if magic is not None else "        —"
            print(f"{name:12} {len(files[name]):10} {ours * 1000:9.3f} {magic_text}  {our_type} / {their_type}")
        print("\nText extraction, best of 3")
        print(f"{'file':12} {'bytes':>10} {'seconds':>9} {'characters':>11}")
        for name, size, seconds, characters in extraction_rows(files):
            print(f"{name:12} {size:10} {seconds:9.4f} {characters:11}")


if __name__ == "__main__":
    main()
