#!/usr/bin/env bash
# Build two test sets of real audio that no training run sees, from Debian packages that are not in
# the training corpus (scripts/fetch_corpus.sh). Licences as each package's debian/copyright states:
#
#   bash scripts/fetch_test_sets.sh       # about 190 MB of .deb files; writes about 9 minutes of audio
#
#   data/test/mix/     music mixes (full arrangements): one 20 s excerpt (from 30 s in, or the middle
#                      of tracks under 50 s; tracks under 25 s are skipped) of up to 8 tracks per
#                      package, evenly spread over the sorted names, at the file's own rate and
#                      channels, named <package>_<track>.wav. From:
#                        extremetuxracer-data  Extreme Tux Racer music           GPL-2+
#                        xmoto-data            X-Moto music                      GPL-2+
#                        lincity-ng-data       LinCity-NG music                  GPL-2+
#                        frozen-bubble-data    Frozen Bubble music               GPL-2
#   data/test/speech/  recorded human speech (no synthesis), mono, at the recordings' rate: one
#                      speaker's utterances, trimmed and joined with 0.3 s pauses into 10-20 s clips.
#                      From:
#                        ktuberling-data       KTuberling's spoken words in en, fr, de, ru, el, lt
#                                              (44.1 kHz)                        GPL-2+
#                        pocketsphinx-testdata a LibriVox reading of Sense and Sensibility
#                                              (16 kHz; LibriVox recordings are public domain;
#                                              the package is BSD-2, CMU)
#                        alsa-utils            speaker-test's channel names (48 kHz)  GPL-2
#   data/test/SOURCES.tsv  one line per clip: set, file, package, version, source path(s) inside
#                      the package, start second, seconds, sample rate, channels.
#
# All clips are 16-bit WAV; every choice is fixed (sorted names, fixed seeds), so a rebuild writes
# the same samples. data/ is ignored by git: audio never goes into the repository. Idempotent:
# downloaded .deb files (data/debs/, shared with fetch_corpus.sh) are kept, and once data/test/mix,
# data/test/speech and data/test/SOURCES.tsv exist the clips are only checked and summarised (delete
# them to rebuild); the clips are cut into data/.test-partial/ and moved into place only when complete.
# data/test/solo/ (scripts/render_solo_set.py) is left alone. The cutting is scripts/cut_test_clips.py.
# Needs apt-get, dpkg and a Python with numpy and soundfile (PYTHON, by default .venv/bin/python).
set -euo pipefail

MIX_PACKAGES=(extremetuxracer-data xmoto-data lincity-ng-data frozen-bubble-data)
SPEECH_PACKAGES=(ktuberling-data pocketsphinx-testdata alsa-utils)
cd "$(dirname "$0")/.."
source scripts/debian.sh
DEBS=data/debs
TEST=data/test
PARTIAL=data/.test-partial
PY=${PYTHON:-.venv/bin/python}

say() { echo "fetch_test_sets: $*"; }
die() { echo "fetch_test_sets: error: $*" >&2; exit 1; }


summarise() {
    "$PY" scripts/cut_test_clips.py summary "$TEST"
}

command -v apt-get >/dev/null || die "apt-get not found; this script needs a Debian or Ubuntu system."
command -v dpkg >/dev/null || die "dpkg not found; this script needs a Debian or Ubuntu system."
"$PY" -c 'import numpy, soundfile' 2>/dev/null || die "$PY lacks numpy or soundfile; install the project or set PYTHON."
for pkg in "${MIX_PACKAGES[@]}" "${SPEECH_PACKAGES[@]}"; do
    for training in "${TRAINING_PACKAGES[@]}"; do
        [[ "$pkg" != "$training" ]] || die "$pkg is a training package and cannot be tested on."
    done
done

if [[ -d "$TEST/mix" && -d "$TEST/speech" && -f "$TEST/SOURCES.tsv" ]]; then
    say "$TEST/mix and $TEST/speech already built (delete them and $TEST/SOURCES.tsv to rebuild)"
    summarise
    exit 0
fi
[[ ! -e "$TEST/mix" && ! -e "$TEST/speech" ]] \
    || die "$TEST holds part of a build (mix/, speech/ or SOURCES.tsv missing); delete $TEST/mix, $TEST/speech and $TEST/SOURCES.tsv."

mkdir -p "$DEBS" "$TEST"
for pkg in "${MIX_PACKAGES[@]}" "${SPEECH_PACKAGES[@]}"; do
    download "$pkg"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fetch_test_sets.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/versions.tsv"
for pkg in "${MIX_PACKAGES[@]}" "${SPEECH_PACKAGES[@]}"; do
    deb=$(compgen -G "$DEBS/${pkg}_*.deb" | sort -V | tail -n 1)
    say "$pkg: extracting $(basename "$deb")"
    dpkg -x "$deb" "$TMP/$pkg"
    printf '%s\t%s\n' "$pkg" "$(dpkg-deb -f "$deb" Version)" >>"$TMP/versions.tsv"
done

rm -rf "${PARTIAL:?}"
say "cutting clips"
"$PY" scripts/cut_test_clips.py cut "$TMP" "$PARTIAL"
mv "$PARTIAL/mix" "$TEST/mix"
mv "$PARTIAL/speech" "$TEST/speech"
mv "$PARTIAL/SOURCES.tsv" "$TEST/SOURCES.tsv"
rmdir "$PARTIAL"
summarise
