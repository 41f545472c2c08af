#!/bin/sh
# tools/check-layers: src/ keeps the layers of docs/architecture.md (no
# include upwards, no include cycle, every module in a layer), and the
# check finds each kind of breach in a tree made to have it.
. "$(dirname "$0")/../lib.sh"

CHECK="python3 $TOP/tools/check-layers"

test_expect_success 'src/ keeps the layers of docs/architecture.md' '
	(cd "$TOP" && $CHECK src docs/architecture.md)
'

# a doc of three layers and a tree that keeps them
layers_tree() {
	mkdir src &&
	cat > doc.md <<-DOC &&
	# x
	## Layers
	- **top**: main, cmd-a. Prints.
	- **middle**: run,
	  push (the engine).
	- **bottom**: util
	- **standalone**: warm
	## Next
	DOC
	printf "#include \"run.h\"\n#include \"util.h\"\n" > src/main.c &&
	printf "#include \"push.h\"\n" > src/cmd-a.c &&
	printf "#include \"push.h\"\n#include \"util.h\"\n" > src/run.c &&
	printf "#include \"util.h\"\n" > src/push.c &&
	printf "#include <stdio.h>\n" > src/util.c &&
	: > src/run.h && : > src/push.h && : > src/util.h && : > src/warm.c
}

test_expect_success 'a tree that keeps its layers passes' '
	layers_tree && $CHECK src doc.md
'

test_expect_success 'a module in several files: their includes are its own' '
	layers_tree &&
	sed -i "s/^- \*\*middle\*\*: run,/- **middle**: run\/runner,/" doc.md &&
	grep -q "run/runner," doc.md &&
	printf "#include \"run.h\"\n" > src/runner.h &&
	printf "#include \"runner.h\"\n" >> src/run.c &&
	$CHECK src doc.md &&
	sed -i "s/run\/runner,/run,/" doc.md &&
	expect_status 1 $CHECK src doc.md &&
	grep -q "module runner is in no layer" .err
'

test_expect_success 'an include cycle through two modules is found' '
	layers_tree &&
	printf "#include \"run.h\"\n" >> src/push.h &&
	expect_status 1 $CHECK src doc.md &&
	grep -q "include cycle: push -> run -> push" .err
'

test_expect_success 'an include upwards is found, with its line' '
	layers_tree &&
	printf "#include \"util.h\"\n#include \"run.h\"\n" > src/util.c &&
	expect_status 1 $CHECK src doc.md &&
	grep -q "src/util.c:2: util (bottom) includes run.h, a layer above (middle)" .err
'

test_expect_success 'a module in no layer, a standalone one that includes' '
	layers_tree &&
	: > src/sched.c &&
	printf "#include \"util.h\"\n" > src/warm.c &&
	expect_status 1 $CHECK src doc.md &&
	grep -q "module sched is in no layer" .err &&
	grep -q "warm is standalone but includes util.h" .err
'

test_done
