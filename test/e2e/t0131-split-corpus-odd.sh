#!/bin/sh
# The other half of t0130's corpus: every other capture, from the second.
# test-slow
CORPUS_HALF=1
. "$(dirname "$0")/t0130-split-corpus.sh"
