#!/usr/bin/env bash
# Download the training music from Debian packages and extract it into data/corpus/.
#
#   bash scripts/fetch_corpus.sh          # about 440 MB of .deb files, about 9.6 hours of music
#
# Each package's audio lands in data/corpus/<package>/, with the package's own folder layout below
# the deepest folder that holds all its tracks. data/ is ignored by git: audio never goes into the
# repository. Idempotent: downloaded .deb files and extracted packages are kept and skipped on the
# next run, and a package is only moved into data/corpus/ once it is complete, so an interrupted run
# can simply be started again. Finally data/corpus/manifest.tsv lists every track (path, package,
# seconds, sample rate, channels). Needs apt-get, dpkg and a Python with soundfile (set PYTHON to
# choose one; by default .venv/bin/python, then python3).
set -euo pipefail

AUDIO_FIND=(-iname '*.ogg' -o -iname '*.opus' -o -iname '*.flac' -o -iname '*.wav' -o -iname '*.mp3')

cd "$(dirname "$0")/.."
source scripts/debian.sh
DEBS=data/debs
CORPUS=data/corpus
PARTIAL=data/.corpus-partial

say() { echo "fetch_corpus: $*"; }
die() { echo "fetch_corpus: error: $*" >&2; exit 1; }

pick_python() {
    local candidate
    for candidate in "${PYTHON:-}" .venv/bin/python python3; do
        if [[ -n "$candidate" ]] && "$candidate" -c 'import soundfile' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    die "no Python with soundfile found; install the project (pip install -e .) or set PYTHON."
}


# Print the audio files under $1 (NUL-separated), keeping only music for packages that mix in effects.
list_audio() {
    local pkg=$1 root=$2
    if [[ "$pkg" == marsshooter-data ]]; then
        # The rest of marsshooter-data's audio is sound effects (and menu/tutorial loops): only its
        # music/ folder holds tracks.
        root="$root/usr/share/games/marsshooter/audio/music"
        [[ -d "$root" ]] || die "marsshooter-data has no audio/music folder; the package layout changed."
    fi
    find "$root" -type f \( "${AUDIO_FIND[@]}" \) -print0
}

# Nexuiz keeps its tracks in a zip archive (music.pk3) under sound/cdtracks/.
unpack_nexuiz() {
    local root=$1 pk3
    pk3=$(find "$root" -name music.pk3 -print -quit)
    [[ -n "$pk3" ]] || die "nexuiz-music has no music.pk3; the package layout changed."
    "$PY" - "$pk3" "$root/pk3" <<'EOF'
import os, sys, time, zipfile
archive, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive) as zf:
    members = [m for m in zf.infolist() if m.filename.startswith("sound/cdtracks/") and not m.is_dir()]
    if not members:
        sys.exit("fetch_corpus: error: music.pk3 holds no sound/cdtracks/ files.")
    for member in members:
        path = zf.extract(member, dest)
        stamp = time.mktime(member.date_time + (0, 0, -1))  # the archive's date, as dpkg -x keeps
        os.utime(path, (stamp, stamp))
EOF
    rm -f "$pk3"
}

extract() {
    local pkg=$1 tmp=$2 deb root common
    if [[ -d "$CORPUS/$pkg" ]]; then
        say "$pkg: already extracted"
        return
    fi
    deb=$(compgen -G "$DEBS/${pkg}_*.deb" | head -n 1)
    root="$tmp/$pkg"
    say "$pkg: extracting $(basename "$deb")"
    dpkg -x "$deb" "$root"
    if [[ "$pkg" == nexuiz-music ]]; then unpack_nexuiz "$root"; fi
    mapfile -d '' files < <(list_audio "$pkg" "$root" | sort -z)
    [[ ${#files[@]} -gt 0 ]] || die "$pkg holds no audio files; the package layout changed."
    # Strip the long usr/share/games/... prefix: keep paths below the folder common to all tracks.
    common=$("$PY" -c 'import os, sys; print(os.path.commonpath([os.path.dirname(f) for f in sys.argv[1:]]))' "${files[@]}")
    rm -rf "${PARTIAL:?}/$pkg"
    local file rel
    for file in "${files[@]}"; do
        rel=${file#"$common"/}
        mkdir -p "$PARTIAL/$pkg/$(dirname "$rel")"
        cp -p "$file" "$PARTIAL/$pkg/$rel"  # keep the package mtimes: decoded-audio caches stay valid
    done
    mv "$PARTIAL/$pkg" "$CORPUS/$pkg"
    say "$pkg: ${#files[@]} tracks"
}

write_manifest() {
    "$PY" - "$CORPUS" <<'EOF'
import os, sys
from pathlib import Path
import soundfile as sf

corpus = Path(sys.argv[1])
suffixes = {".ogg", ".opus", ".flac", ".wav", ".mp3"}
rows, seconds = [], 0.0
for path in sorted(p for p in corpus.rglob("*") if p.suffix.lower() in suffixes and p.is_file()):
    info = sf.info(str(path))
    rel = path.relative_to(corpus).as_posix()
    rows.append(f"{rel}\t{rel.split('/')[0]}\t{info.duration:.3f}\t{info.samplerate}\t{info.channels}")
    seconds += info.duration
tmp = corpus / ".manifest.tsv.tmp"
tmp.write_text("path\tpackage\tseconds\tsample_rate\tchannels\n" + "\n".join(rows) + "\n")
os.replace(tmp, corpus / "manifest.tsv")
print(f"fetch_corpus: {len(rows)} tracks, {seconds / 3600:.2f} hours; manifest in {corpus}/manifest.tsv")
EOF
}

command -v apt-get >/dev/null || die "apt-get not found; this script needs a Debian or Ubuntu system."
command -v dpkg >/dev/null || die "dpkg not found; this script needs a Debian or Ubuntu system."
PY=$(pick_python)
mkdir -p "$DEBS" "$CORPUS" "$PARTIAL"
for pkg in "${TRAINING_PACKAGES[@]}"; do
    download "$pkg"
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for pkg in "${TRAINING_PACKAGES[@]}"; do
    extract "$pkg" "$TMP"
done
rmdir "$PARTIAL" 2>/dev/null || true
write_manifest
