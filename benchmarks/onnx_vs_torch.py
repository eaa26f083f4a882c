"""EmbeddingGemma on CPU-only torch or as an ONNX export (issue #13 item 1): prints figures.

    .venv/bin/pip install onnxruntime onnx   # for this measurement only, not a dependency
    .venv/bin/python benchmarks/onnx_vs_torch.py [--model data/models/embeddinggemma-300m]

Exports the installed model (transformer, pooling, both dense layers, normalisation) to
ONNX in a temporary folder, the way an install step would, then measures both runtimes
the way the app uses them: one intra-op thread, the "query" prompt. Figures: export time
and file size, load time, one statement's vector (median of 40, as a group's submit and
hint), 2,000 statements in batches of 32 (a re-embedding or a suggestion's missing
vectors), resident memory after each load, and agreement (cosine of the two vectors of
each of 200 Thai statements). Run each runtime in its own process (`--only`), so one's
memory does not count against the other's; without `--only` it runs both in turn.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "task: search result | query: "  # the "query" prompt the app uses
STATEMENTS = ROOT / "benchmarks" / "data" / "thai_problems.csv"


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _texts(count: int) -> list[str]:
    import pandas as pd

    found = pd.read_csv(STATEMENTS)["text"].astype(str).tolist()
    return [PROMPT + found[i % len(found)] for i in range(count)]


def _torch_model(folder: Path) -> Any:  # torch comes with `make model` only
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def export(folder: Path, target: Path) -> float:
    """The whole sentence model as one ONNX graph: token ids and mask in, unit vector out."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(folder),
        device="cpu",
        local_files_only=True,
        model_kwargs={"attn_implementation": "eager"},  # plain ops that export
    )

    class Whole(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            found = self.model({"input_ids": input_ids, "attention_mask": attention_mask})
            return found["sentence_embedding"]

    sample = model.tokenizer([PROMPT + "ครูไม่เพียงพอ"] * 2, return_tensors="pt", padding=True)
    started = time.perf_counter()
    torch.onnx.export(
        Whole().eval(),
        (sample["input_ids"], sample["attention_mask"]),
        str(target),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_vector"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "sentence_vector": {0: "batch"},
        },
        opset_version=18,
        dynamo=True,  # torch.export: the TorchScript tracer cannot follow the masks vmap
    )
    return time.perf_counter() - started


def measure(runtime: str, folder: Path, onnx_file: Path) -> dict[str, float]:
    """Load `runtime`, then time one statement and 2,000; vectors go to a .npy beside."""
    before = _rss_mib()
    started = time.perf_counter()
    if runtime == "torch":
        model = _torch_model(folder)

        def encode(texts: list[str]) -> np.ndarray:
            return model.encode(texts, batch_size=32, normalize_embeddings=True)

    else:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)

        def encode(texts: list[str]) -> np.ndarray:
            out = []
            for start in range(0, len(texts), 32):
                batch = tokenizer(
                    texts[start : start + 32], return_tensors="np", padding=True, truncation=True
                )
                feed = {k: batch[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
                out.append(session.run(["sentence_vector"], feed)[0])
            return np.concatenate(out)

    encode(_texts(1))
    load = time.perf_counter() - started
    one = []
    for text in _texts(40):
        started = time.perf_counter()
        encode([text])
        one.append(time.perf_counter() - started)
    many = _texts(2000)
    started = time.perf_counter()
    vectors = encode(many)
    batch = time.perf_counter() - started
    np.save(onnx_file.with_name(f"{runtime}.npy"), vectors[:200])
    return {
        "load_s": load,
        "one_ms": 1000 * statistics.median(one),
        "one_p90_ms": 1000 * sorted(one)[int(0.9 * (len(one) - 1))],
        "batch_2000_s": batch,
        "rss_mib": _rss_mib(),
        "rss_growth_mib": _rss_mib() - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/embeddinggemma-300m")
    parser.add_argument("--folder", type=Path, help="where the export goes (default: a temp dir)")
    parser.add_argument("--only", choices=("export", "torch", "onnx"))
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="gemma-onnx-"))
    folder.mkdir(parents=True, exist_ok=True)
    onnx_file = folder / "embeddinggemma.onnx"
    if args.only == "export":
        seconds = export(args.model, onnx_file)
        size = sum(f.stat().st_size for f in folder.iterdir() if f.suffix != ".npy")
        print(f"export: {seconds:.1f} s, {size / 2**20:.0f} MiB on disk")
        return
    if args.only:
        figures = measure(args.only, args.model, onnx_file)
        print(
            f"{args.only}: load {figures['load_s']:.1f} s; one statement median "
            f"{figures['one_ms']:.0f} ms (p90 {figures['one_p90_ms']:.0f}); 2,000 statements "
            f"{figures['batch_2000_s']:.1f} s; resident {figures['rss_mib']:.0f} MiB "
            f"(+{figures['rss_growth_mib']:.0f} for the model)"
        )
        return
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores")
    for step in ("export", "torch", "onnx"):
        subprocess.run(
            [sys.executable, __file__, "--model", str(args.model), "--folder", str(folder),
             "--only", step],
            check=True,
        )  # fmt: skip
    torch_vectors = np.load(folder / "torch.npy")
    onnx_vectors = np.load(folder / "onnx.npy")
    agreement = np.sum(torch_vectors * onnx_vectors, axis=1)
    print(
        f"agreement over 200 statements: cosine min {agreement.min():.5f}, "
        f"median {np.median(agreement):.5f}"
    )
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end")


if __name__ == "__main__":
    main()
