import hashlib
import os
from pathlib import Path

import pytest
import torch

from rnnreg import data
from rnnreg.data import (
    EOS,
    PTB_TOKENS,
    PTB_VOCAB,
    Corpus,
    DataError,
    Vocabulary,
    batchify,
    download_ptb,
    load_corpus,
    num_windows,
    resolve_corpus_dir,
    tokenize,
    windows,
)


@pytest.fixture(autouse=True)
def _online(monkeypatch):
    """These tests download from file:// URLs: a machine-wide RNNREG_OFFLINE=1 must not turn them off."""
    monkeypatch.delenv("RNNREG_OFFLINE", raising=False)


def test_ptb_sizes_match_the_paper(ptb_corpus):
    assert (
        ptb_corpus.sizes()
        == {**PTB_TOKENS, "vocab": PTB_VOCAB}
        == {"train": 929_589, "valid": 73_760, "test": 82_430, "vocab": 10_000}
    )


def test_ptb_ids_are_those_of_the_plain_reader(ptb_corpus):
    # A run resumed with a newer loader must see the same word ids: same vocabulary order, same ids.
    folder = Path(os.environ["RNNREG_DATA"])
    texts = [(folder / f"ptb.{s}.txt").read_text(encoding="utf-8") for s in ("train", "valid", "test")]
    vocab = Vocabulary.from_tokens(tokenize(texts[0]))
    assert ptb_corpus.vocab.words == vocab.words
    for split, text in zip(("train", "valid", "test"), texts):
        assert torch.equal(getattr(ptb_corpus, split), vocab.encode(tokenize(text)))
    assert ptb_corpus.name == "PTB" and ptb_corpus.notes == []


def test_ptb_windows_per_epoch(ptb_corpus):
    # The paper's code and TF's reader: ((N // 20) - 1) // T windows an epoch.
    streams = batchify(ptb_corpus.train, 20)
    assert num_windows(streams, 20) == 2323
    assert num_windows(streams, 35) == 1327


def test_tokenize_turns_newlines_into_eos():
    assert tokenize(" a b\n c\n") == ["a", "b", EOS, "c", EOS]


def test_vocabulary_from_train_in_order_of_first_appearance():
    corpus = Corpus.from_texts(" b a\n a c\n", " a\n", " c b\n")
    assert corpus.vocab.words == ["b", "a", EOS, "c"]
    assert corpus.vocab.decode(corpus.valid) == ["a", EOS]


def test_unknown_word_in_valid_is_a_clear_error():
    with pytest.raises(DataError, match="valid split has 1 word not in the training vocabulary"):
        Corpus.from_texts(" a b\n", " a zebra\n", " a\n")


def test_plain_split_names_are_a_corpus(tiny_dir):
    corpus = load_corpus(tiny_dir)
    assert corpus.sizes()["train"] > 1000 and len(corpus.vocab) < 40


def test_batchify_lays_out_contiguous_streams():
    ids = torch.arange(23)
    streams = batchify(ids, 4)  # 5 tokens per stream, 3 dropped
    assert streams.shape == (5, 4)
    assert streams[:, 1].tolist() == [5, 6, 7, 8, 9]


def test_windows_shift_targets_by_one_and_cover_every_token_in_eval():
    streams = batchify(torch.arange(40), 2)  # 20 rows
    train = list(windows(streams, 6))
    assert len(train) == 3 and all(x.shape == (6, 2) for x, _ in train)
    for x, y in train:
        assert torch.equal(y, x + 1)
    evals = list(windows(streams, 6, drop_last=False))
    assert sum(y.size(0) for _, y in evals) == 19  # every row but the first is a target once
    assert evals[-1][0].shape == (1, 2)


def test_explicit_path_without_corpus_names_folder_and_remedy(tmp_path):
    with pytest.raises(DataError) as err:
        load_corpus(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(err.value) and "ptb.train.txt" in str(err.value)


def test_env_var_is_used(tiny_dir, monkeypatch):
    monkeypatch.setenv("RNNREG_DATA", str(tiny_dir))
    assert resolve_corpus_dir()["train"] == tiny_dir / "train.txt"


def test_ptb_names_with_other_bytes_are_refused(tmp_path):
    for name in ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"):
        (tmp_path / name).write_text(" a b\n")
    with pytest.raises(DataError, match="ptb.train.txt has a PTB name but not the bytes of the PTB file"):
        load_corpus(tmp_path)


def _fake_ptb(monkeypatch, src: Path) -> dict:
    """Pretend three small files are PTB: patch the expected sums to theirs."""
    sums = {}
    for split in ("train", "valid", "test"):
        f = src / f"ptb.{split}.txt"
        f.write_text(" train valid test words here\n" if split == "train" else f" {split} words here\n")
        sums[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
    monkeypatch.setattr(data, "PTB_SHA256", sums)
    return sums


def test_download_verifies_and_writes_atomically(tmp_path, monkeypatch):
    src = tmp_path / "mirror"
    src.mkdir()
    _fake_ptb(monkeypatch, src)
    cache = tmp_path / "cache"
    files = download_ptb(cache, urls=[src.as_uri() + "/{name}"])
    assert sorted(p.name for p in cache.iterdir()) == ["ptb.test.txt", "ptb.train.txt", "ptb.valid.txt"]
    assert files["valid"].read_text() == " valid words here\n"


def test_download_falls_back_to_next_mirror_and_rejects_bad_bytes(tmp_path, monkeypatch):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir(), bad.mkdir()
    _fake_ptb(monkeypatch, good)
    for name in ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"):
        (bad / name).write_text("tampered\n")
    cache = tmp_path / "cache"
    download_ptb(cache, urls=[bad.as_uri() + "/{name}", good.as_uri() + "/{name}"])
    assert (cache / "ptb.valid.txt").read_text() == " valid words here\n"
    with pytest.raises(DataError, match="Could not download") as err:
        download_ptb(tmp_path / "cache2", urls=[bad.as_uri() + "/{name}"])
    assert "checksum mismatch" in str(err.value)
    assert not any((tmp_path / "cache2").iterdir())  # no partial or bad file left behind


def test_cache_is_filled_by_download_when_nothing_else_is_set(tmp_path, monkeypatch):
    src = tmp_path / "mirror"
    src.mkdir()
    _fake_ptb(monkeypatch, src)
    monkeypatch.delenv("RNNREG_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "PTB_URLS", (src.as_uri() + "/{name}",))
    corpus = load_corpus()
    assert corpus.source == str(tmp_path / "xdg" / "rnnreg" / "ptb")
    with pytest.raises(DataError, match="downloading is off"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
        load_corpus(download=False)


def test_offline_download_error_says_what_to_do(tmp_path):
    with pytest.raises(DataError) as err:
        download_ptb(tmp_path / "c", urls=[(tmp_path / "missing").as_uri() + "/{name}"])
    assert "Put ptb.train.txt" in str(err.value) and str(tmp_path / "c") in str(err.value)
