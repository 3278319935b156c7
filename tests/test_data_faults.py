r"""Faults of the data side (issue #12 §2, items 4, 5 and 7, and issue #33): each one is tried here, and each one ends
in a ``DataError`` (a ``ValueError`` for a panel's arguments) that says what to do, or in a documented, noted choice.
None ends in a traceback, a hang or a silently wrong number. In parentheses: what the loader did before these changes.

=========================================  ==========================================  ==============================================
fault tried                                how to reproduce                            what it gets now (before)
=========================================  ==========================================  ==============================================
4. mirror trickles the body (1 byte per    local http.server on 127.0.0.1 sends the    past ``deadline`` (per file, per mirror) the
   interval, never trips a socket          headers, then a byte every 0.1 s            attempt stops and the next mirror is tried; if
   timeout)                                                                            none is left, a DataError lists each URL with
                                                                                       "gave up after the N s deadline" (before: no
                                                                                       deadline; a byte every 10 s hung forever)
4. mirror trickles the status line and     same server; the status line trickles too   same: the read runs in a thread that is given
   headers                                                                             up at the deadline, so ``urlopen`` itself
                                                                                       cannot hold the download past it (before: as
                                                                                       long as the mirror liked)
4. two downloads into one folder at once   two ``download_ptb`` into one cache         both end with the right files: each writes its
                                                                                       own temporary file and renames it into place;
                                                                                       nothing half-written is left
4. machine without network                 ``RNNREG_OFFLINE=1``, or                    nothing is fetched; DataError "downloading is
                                           ``load_corpus(download=False)``             off (RNNREG_OFFLINE=1)" naming the folder to
                                                                                       put the files in (before: the env var was
                                                                                       ignored and the download attempted)
4. ``RNNREG_OFFLINE=maybe``                set a value that is neither on nor off      DataError listing the accepted values
#33 a corpus of your own saved under       own text as ptb.train.txt, ...              DataError naming the file: not the PTB bytes;
   ``ptb.*`` names                                                                     rename to train.txt, ... or replace a damaged
                                                                                       copy (before: "corrupt ... Delete it and run
                                                                                       again to download a fresh copy")
5. UTF-8 byte-order mark at the start of   a file saved by Notepad (``utf-8-sig``)     stripped, and a line in ``Corpus.notes``
   a file                                                                              (before: "\ufeffthe" became its own word; in
                                                                                       valid/test an unknown-word error)
5. byte-order mark inside a file           two files joined with ``cat``               DataError naming the file and the line
                                                                                       (before: "\ufeffb" silently a word of its own
                                                                                       in train)
5. bytes that are not UTF-8                a Latin-1 file (``caf\xe9``)                DataError naming the file, the line, the byte
                                                                                       of the line, the file offset, and iconv
                                                                                       (before: UnicodeDecodeError traceback)
#33 a Big5 (any non-UTF-8) file            Chinese text saved as Big5                  the same DataError; the hint is ``iconv -f
                                                                                       ENCODING -t utf-8``, no guessed encoding
                                                                                       (before: ``iconv -f latin1``)
5. a UTF-16 file                           ``write_text(..., encoding="utf-16")``      the same DataError, saying "UTF-16 byte-order
                                                                                       mark: save it as UTF-8"
5. CRLF or lone-CR line ends               Windows or old-Mac files                    read as ``\n``, exactly as before (text mode)
#33 a word in NFD in valid, NFC in train   ``unicodedata.normalize("NFD", "café")``    every split is normalised to NFC (a note says
                                                                                       which), so it is train's word (before: "'café'
                                                                                       not in the training vocabulary", no hint)
#33 a split of blank lines                 ``printf '\n\n' > test.txt``                DataError "the test split (.../test.txt) has
                                                                                       no words" (before: accepted; one prediction's
                                                                                       perplexity became the run's test result). An
                                                                                       empty valid/test file is left to the training
                                                                                       size check, which names the tokens needed
7. valid/test words not in train           ``Corpus.from_texts(" a b\n", " a z\n", "   DataError per split: words not in train
                                           y\n")``                                     (types, tokens), the first 5 with line
                                                                                       numbers, and the opt-in ``unknown="unk"`` /
                                                                                       ``--unk`` (before: only the first word, as a
                                                                                       KeyError repr)
7. opt in: ``unknown="unk"``               same texts, ``unknown="unk"``               mapped to ``<unk>`` (train's id if train has
                                                                                       it, else ``<unk>`` appended last); counts in
                                                                                       ``notes``; train ids unchanged
7. folder with ``ptb.*`` and plain names   both sets in one folder (or a half PTB      DataError naming the folder and both sets'
                                           download beside your own)                   files (was: ``ptb.*`` used, with a warning)
#33 a folder named ``train.txt``           ``mkdir train.txt`` beside valid.txt,       DataError "it has valid.txt, test.txt but not
                                           test.txt                                    all three splits" (before: listed train.txt
                                                                                       among the files found)
7. widget label says "PTB" for any corpus  ``TrainingPanel(corpus).data_note()``       ``Corpus.name``: "PTB" for the checksummed PTB
                                                                                       files, else the folder's name
#33 ``TrainingPanel`` values out of range  ``TrainingPanel(c, hidden_size=5000,        ValueError naming the option and its range
   (tests in test_widgets.py)              seed=-7, valid_tokens=-5)``                 (before: clamped to 400 and 0 without a word;
                                                                                       ``head(valid=-5)`` used all but 5 tokens)
#33 ``TrainingPanel`` slice beyond a       ``TrainingPanel(ptb, train_tokens=10**9)``  the whole split; slider and figure note say
   split                                                                               the tokens used, 929,589 (before: the note
                                                                                       said "first 1,000,000,000 PTB train tokens")
#33 ``TrainingPanel.checks()`` before a    ``TrainingPanel(c).checks()``               every check False (before: all True, ``all()``
   run                                                                                 of nothing)
#33 a panel given an unknown choice        ``SchemeDiagram("bogus")``,                 ValueError listing the valid choices (before:
                                           ``TrainingPanel(c, plot="bogus")``          ``TraitError: Invalid selection``, no choices)
=========================================  ==========================================  ==============================================
"""

import hashlib
import http.server
import threading
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from rnnreg import data
from rnnreg.data import EOS, UNK, Corpus, DataError, download_ptb, load_corpus

NAMES = ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")


@pytest.fixture(autouse=True)
def _online(monkeypatch):
    monkeypatch.delenv("RNNREG_OFFLINE", raising=False)


def fake_ptb(monkeypatch, folder: Path) -> Path:
    """Three small files with the PTB names whose sums are patched in as PTB's."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name in NAMES:
        f = folder / name
        f.write_text(" train valid test words here\n" if "train" in name else f" {name.split('.')[1]} words here\n")
        sums[name] = hashlib.sha256(f.read_bytes()).hexdigest()
    monkeypatch.setattr(data, "PTB_SHA256", sums)
    return folder


def plain_corpus(folder: Path, train: str, valid: str, test: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, text in zip(("train", "valid", "test"), (train, valid, test)):
        (folder / f"{split}.txt").write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return folder


# -- 4. a slow mirror, two downloads at once, offline machines ------------------------------------------------
class SlowMirror(http.server.BaseHTTPRequestHandler):
    """``/body/<name>``: headers at once, then one byte every ``interval``; ``/headers/<name>``: the status
    line itself one byte at a time. Each request ends after ``cap`` seconds, so the test is bounded even
    against a loader with no deadline."""

    interval, cap = 0.1, 4.0
    stop: threading.Event
    requests: list

    def do_GET(self):  # noqa: N802 - http.server's name
        self.requests.append(self.path)
        end = time.monotonic() + self.cap
        try:
            if self.path.startswith("/headers/"):
                payload = b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
            else:
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.flush()
                payload = b"x" * 1000
            for i in range(len(payload)):
                if self.stop.is_set() or time.monotonic() > end:
                    return
                self.wfile.write(payload[i : i + 1])
                self.wfile.flush()
                time.sleep(self.interval)
        except OSError:  # the client hung up: what the deadline should make it do
            return

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_mirror():
    stop, requests = threading.Event(), []
    handler = type("Handler", (SlowMirror,), {"stop": stop, "requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", requests=requests)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


@pytest.mark.parametrize("stage", ["body", "headers"])
def test_a_trickling_mirror_is_abandoned_at_the_deadline_for_the_next(tmp_path, monkeypatch, slow_mirror, stage):
    good = fake_ptb(monkeypatch, tmp_path / "good")
    cache = tmp_path / "cache"
    start = time.monotonic()
    download_ptb(cache, urls=[f"{slow_mirror.url}/{stage}/{{name}}", good.as_uri() + "/{name}"], deadline=0.4)
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"took {elapsed:.1f} s: the 0.4 s deadline did not hold"  # 3 files x 0.4 s + slack
    assert len(slow_mirror.requests) == 3  # the slow mirror was tried first for each file
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES)  # no temporary file left behind
    assert (cache / "ptb.valid.txt").read_text() == " valid words here\n"


def test_a_trickling_only_mirror_is_a_data_error_within_the_deadline(tmp_path, monkeypatch, slow_mirror):
    fake_ptb(monkeypatch, tmp_path / "good")
    cache = tmp_path / "cache"
    start = time.monotonic()
    with pytest.raises(DataError, match="Could not download ptb.train.txt") as err:
        download_ptb(cache, urls=[f"{slow_mirror.url}/body/{{name}}"], deadline=0.3, timeout=30)
    assert time.monotonic() - start < 2.0
    assert "gave up after the 0.3 s deadline" in str(err.value) and "RNNREG_OFFLINE=1" in str(err.value)
    assert list(cache.iterdir()) == []  # nothing written for a failed attempt


def test_two_downloads_into_one_folder_both_end_with_the_right_files(tmp_path, monkeypatch):
    good = fake_ptb(monkeypatch, tmp_path / "good")
    cache, errors = tmp_path / "cache", []

    def download():
        try:
            download_ptb(cache, urls=[good.as_uri() + "/{name}"])
        except Exception as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=download) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES)  # no temporary file left
    assert all(data.sha256(cache / name) == data.PTB_SHA256[name] for name in NAMES)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """No RNNREG_DATA, an empty cache, and a working file:// mirror as PTB_URLS."""
    mirror = fake_ptb(monkeypatch, tmp_path / "mirror")
    monkeypatch.delenv("RNNREG_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "PTB_URLS", (mirror.as_uri() + "/{name}",))
    return tmp_path / "xdg" / "rnnreg" / "ptb"


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_offline_switch_forbids_downloading_and_says_where_to_put_the_files(empty_cache, monkeypatch, value):
    monkeypatch.setenv("RNNREG_OFFLINE", value)
    with pytest.raises(DataError) as err:
        load_corpus()
    message = str(err.value)
    assert f"downloading is off (RNNREG_OFFLINE={value})" in message
    assert f"into {empty_cache}" in message and "ptb.train.txt" in message and "RNNREG_DATA" in message
    assert not empty_cache.exists()  # nothing fetched, no folder made
    with pytest.raises(DataError, match="downloading is off"):
        download_ptb(empty_cache, urls=data.PTB_URLS)  # also when asked for by name
    with pytest.raises(DataError, match="downloading is off"):
        load_corpus(download=True)  # the machine's switch wins


def test_download_false_says_so_and_where(empty_cache):
    with pytest.raises(DataError, match=r"downloading is off \(download=False\)") as err:
        load_corpus(download=False)
    assert str(empty_cache) in str(err.value)
    assert not empty_cache.exists()


def test_offline_switch_off_values_download_and_nonsense_is_refused(empty_cache, monkeypatch):
    monkeypatch.setenv("RNNREG_OFFLINE", "0")
    assert load_corpus().name == "PTB"  # the fake PTB, downloaded into the cache
    monkeypatch.setenv("RNNREG_OFFLINE", "maybe")
    with pytest.raises(DataError, match="RNNREG_OFFLINE='maybe' is neither on"):
        load_corpus()  # even with the corpus in the cache, where the switch is not needed


def test_offline_switch_does_not_stop_local_folders(tiny_dir, monkeypatch):
    monkeypatch.setenv("RNNREG_OFFLINE", "1")
    assert load_corpus(tiny_dir).sizes()["train"] > 1000


# -- 5. encodings --------------------------------------------------------------------------------------
def test_utf8_byte_order_mark_is_stripped_and_noted(tmp_path):
    folder = plain_corpus(tmp_path / "bom", " the cat\n a dog\n", " the dog\n", " a cat\n", encoding="utf-8-sig")
    corpus = load_corpus(folder)
    assert corpus.vocab.words == ["the", "cat", EOS, "a", "dog"]  # no "\ufeffthe"
    assert corpus.vocab.decode(corpus.valid) == ["the", "dog", EOS]
    assert len(corpus.notes) == 3 and all("byte-order mark" in n for n in corpus.notes)
    assert str(folder / "train.txt") in corpus.notes[0]


def test_a_byte_order_mark_inside_a_file_is_refused_with_its_line(tmp_path):
    folder = plain_corpus(tmp_path / "joined", " a b\n" + "\ufeff b a\n", " a\n", " b\n")
    with pytest.raises(DataError, match=r"train.txt has a byte-order mark \(U\+FEFF\) inside it, on line 2"):
        load_corpus(folder)


def test_invalid_utf8_names_file_line_and_byte(tmp_path):
    folder = plain_corpus(tmp_path / "latin1", " a b\n", " a b\n b a\n caf\xe9 a\n", " a\n", encoding="latin-1")
    with pytest.raises(DataError) as err:
        load_corpus(folder)
    message = str(err.value)
    assert str(folder / "valid.txt") in message
    assert "line 3, byte 5 of the line (offset 14 in the file)" in message and "iconv" in message


def test_a_big5_file_is_told_to_convert_from_its_own_encoding_not_latin1(tmp_path):
    folder = plain_corpus(tmp_path / "big5", " a b\n", " a b\n", "中文 a\n".encode("big5"))
    with pytest.raises(DataError) as err:
        load_corpus(folder)
    message = str(err.value)
    assert str(folder / "test.txt") in message and "is not UTF-8" in message
    assert "iconv -f ENCODING -t utf-8" in message and "latin" not in message.lower()


def test_nfd_and_nfc_spellings_of_a_word_are_one_word(tmp_path):
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    corpus = load_corpus(plain_corpus(tmp_path / "nfd", f" {nfc} a\n", f" {nfd} a\n", " a\n"))
    assert corpus.vocab.words == [nfc, "a", EOS]
    assert corpus.valid.tolist() == corpus.train.tolist()
    assert [n.split(":")[0] for n in corpus.notes] == ["valid"]  # the split that changed is noted
    assert load_corpus(plain_corpus(tmp_path / "nfc", f" {nfc} a\n", f" {nfc}\n", " a\n")).notes == []


def test_utf16_file_is_named_as_such(tmp_path):
    folder = plain_corpus(tmp_path / "u16", " a b\n", " a\n", " b\n")
    (folder / "test.txt").write_text(" b\n", encoding="utf-16")
    with pytest.raises(DataError, match=r"test.txt is not UTF-8: line 1.*UTF-16 byte-order mark"):
        load_corpus(folder)


def test_crlf_and_lone_cr_read_as_before(tmp_path):
    folder = plain_corpus(tmp_path / "crlf", " a b\r\n b a\r\n", " a\r b\r", " b\n")
    corpus = load_corpus(folder)
    assert corpus.vocab.decode(corpus.train) == ["a", "b", EOS, "b", "a", EOS]
    assert corpus.vocab.decode(corpus.valid) == ["a", EOS, "b", EOS]  # text mode read a lone \r as \n


# -- #33. splits without words ------------------------------------------------------------------------------
@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_a_split_of_blank_lines_is_refused_naming_split_and_file(tmp_path, split):
    texts = {"train": " a b\n b a\n", "valid": " a b\n", "test": " b a\n", split: "\n\n"}
    folder = plain_corpus(tmp_path / "blank", texts["train"], texts["valid"], texts["test"])
    with pytest.raises(DataError, match=rf"the {split} split \({folder / f'{split}.txt'}\) has no words"):
        load_corpus(folder)
    with pytest.raises(DataError, match=rf"the {split} split \(mine\) has no words"):
        Corpus.from_texts(*texts.values(), source="mine")


def test_an_empty_valid_or_test_file_is_left_to_the_size_checks():
    # train.require_tokens refuses it with the tokens it needs (tests/test_faults.py); an empty train is no corpus
    assert Corpus.from_texts(" a b\n", "", "").sizes() == {"train": 3, "valid": 0, "test": 0, "vocab": 3}
    with pytest.raises(DataError, match=r"the train split \(mine\) has no words"):
        Corpus.from_texts("", " a\n", " a\n", source="mine")


def test_a_corpus_of_your_own_under_ptb_names_is_told_to_rename_not_to_delete(tmp_path):
    folder = plain_corpus(tmp_path / "mine", " a b\n", " a\n", " b\n")
    for split in ("train", "valid", "test"):
        (folder / f"{split}.txt").rename(folder / f"ptb.{split}.txt")
    with pytest.raises(DataError) as err:
        load_corpus(folder)
    message = str(err.value)
    assert str(folder / "ptb.train.txt") in message and "train.txt, valid.txt, test.txt" in message
    assert "delete" not in message.lower() and "corrupt" not in message.lower()


# -- 7. corpora of your own -------------------------------------------------------------------------------
def test_unknown_words_are_counted_per_split_with_lines_and_the_opt_in_is_named():
    valid = " a z\n q z\n" + "".join(f" n{i}\n" for i in range(6))
    with pytest.raises(DataError) as err:
        Corpus.from_texts(" a b\n c\n", valid, " y a\n", source="mine")
    message = str(err.value)
    assert "Closed vocabulary (mine)" in message
    assert (
        "valid split has 8 words not in the training vocabulary (8 types, 9 tokens): 'z' (line 1), "
        "'q' (line 2), 'n0' (line 3), 'n1' (line 4), 'n2' (line 5), ... (3 more)" in message
    )
    assert "test split has 1 word not in the training vocabulary (1 type, 1 token): 'y' (line 1)" in message
    assert 'unknown="unk"' in message and "--unk" in message


def test_opt_in_maps_unknown_words_to_the_train_unk():
    corpus = Corpus.from_texts(" a <unk> b\n", " a z\n", " y y\n", unknown="unk")
    assert corpus.vocab.words == ["a", UNK, "b", EOS]
    assert corpus.vocab.decode(corpus.valid) == ["a", UNK, EOS]
    assert corpus.vocab.decode(corpus.test) == [UNK, UNK, EOS]
    assert corpus.notes == [
        "valid: 1 word not in train (1 token) mapped to <unk>; first: 'z'",
        "test: 1 word not in train (2 tokens) mapped to <unk>; first: 'y'",
    ]


def test_opt_in_adds_unk_last_when_train_has_none_and_keeps_train_ids():
    closed = Corpus.from_texts(" a b\n c\n", " a\n", " b\n")
    opened = Corpus.from_texts(" a b\n c\n", " a z\n", " b\n", unknown="unk")
    assert opened.vocab.words == closed.vocab.words + [UNK]
    assert torch.equal(opened.train, closed.train)
    assert opened.valid.tolist() == [0, len(closed.vocab), 2]
    assert "<unk> is not in train: added to the vocabulary (id 4)" in opened.notes


def test_opt_in_without_unknown_words_changes_nothing_and_bad_policy_is_refused(tiny_dir):
    assert load_corpus(tiny_dir, unknown="unk").vocab.words == load_corpus(tiny_dir).vocab.words
    plain_corpus(tiny_dir, " a b\n", " a c\n", " b\n")
    assert load_corpus(tiny_dir, unknown="unk").vocab.decode(load_corpus(tiny_dir, unknown="unk").valid) == [
        "a",
        UNK,
        EOS,
    ]
    with pytest.raises(ValueError, match="unknown must be one of"):
        load_corpus(tiny_dir, unknown="drop")


def test_ptb_and_plain_names_in_one_folder_are_refused_naming_both(tmp_path, monkeypatch):
    folder = fake_ptb(monkeypatch, tmp_path / "both")
    plain_corpus(folder, " other text\n", " other\n", " text\n")
    with pytest.raises(DataError, match=r"both ptb.train.txt, ptb.valid.txt, ptb.test.txt, train.txt, valid.txt"):
        load_corpus(folder)


def test_plain_names_beside_an_incomplete_ptb_set_are_refused_naming_it(tmp_path):
    folder = plain_corpus(tmp_path / "mixed", " other text\n", " other\n", " text\n")
    (folder / "ptb.train.txt").write_text(" half a download\n")
    with pytest.raises(DataError, match=f"{folder} has both ptb.train.txt, train.txt"):
        load_corpus(folder)


def test_an_incomplete_folder_says_what_it_has(tmp_path):
    folder = plain_corpus(tmp_path / "two", " a\n", " a\n", " a\n")
    (folder / "test.txt").unlink()
    with pytest.raises(DataError, match="it has train.txt, valid.txt but not all three splits"):
        load_corpus(folder)


def test_a_folder_named_like_a_split_is_not_counted_as_one(tmp_path):
    folder = plain_corpus(tmp_path / "dir", " a\n", " a\n", " a\n")
    (folder / "train.txt").unlink()
    (folder / "train.txt").mkdir()
    with pytest.raises(DataError, match="it has valid.txt, test.txt but not all three splits"):
        load_corpus(folder)


def test_corpus_name_is_ptb_only_for_the_ptb_files(tiny_dir, tmp_path, monkeypatch):
    assert load_corpus(tiny_dir).name == "tiny"
    assert load_corpus(fake_ptb(monkeypatch, tmp_path / "somewhere")).name == "PTB"
    corpus = Corpus.from_texts(" a\n", " a\n", " a\n", source="/data/wiki2")
    assert corpus.name == "wiki2" and corpus.head(train=1).name == "wiki2"
    assert Corpus.from_texts(" a\n", " a\n", " a\n").name == "corpus"
    assert Corpus.from_texts(" a\n", " a\n", " a\n", name="Mine").name == "Mine"


def test_training_widget_label_names_the_corpus():
    pytest.importorskip("matplotlib")
    panels = pytest.importorskip("rnnreg.views.panels")
    corpus = Corpus.from_texts(" a b\n" * 2000, " a\n" * 100, " b\n", source="/data/wiki2")
    panel = SimpleNamespace(
        corpus=corpus,
        train_tokens=SimpleNamespace(value=5000),
        valid_tokens=100,
        hidden=SimpleNamespace(value=64),
        batch_size=8,
        steps=SimpleNamespace(value=10),
        seed=1,
    )
    note = panels.TrainingPanel.data_note(panel)
    assert note.startswith("live: first 5,000 wiki2 train tokens") and "PTB" not in note
