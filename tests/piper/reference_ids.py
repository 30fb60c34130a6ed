"""Piper's own phoneme ids for each line of standard input, one output line
per input line (the line stripped, as the piper CLI strips it; all its
sentences' ids joined by spaces), for comparing with `loa phonemes --lines`.

    python reference_ids.py MODEL.onnx.json < lines.txt

Uses the piper-tts package (PiperVoice.phonemize and phonemes_to_ids); no
model or ONNX session is loaded.
"""

import json
import sys

from piper.config import PiperConfig
from piper.voice import PiperVoice


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    voice = PiperVoice(session=None, config=config)
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        ids = []
        for phonemes in voice.phonemize(line) if line else []:
            if phonemes:
                ids.extend(voice.phonemes_to_ids(phonemes))
        out.write(" ".join(str(i) for i in ids) + "\n")


if __name__ == "__main__":
    main()
