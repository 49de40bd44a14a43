# GenreKit: `make demo` and `make test` on a fresh machine; `make preprocess|train|evaluate` on your corpora.
# Variables: DATASET (a name in ./datasets; empty = the built-in synthetic corpus), PIPELINE, OUT, JOBS.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# One optimised build serves the tool, the tests and the benchmarks (numeric loops are many times slower unoptimised).
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
GENRE := .build/release/genre

DATASET ?=
JOBS ?= $(shell nproc)
TRAIN_CONFIG ?= $(if $(strip $(DATASET)),pipelines/train.toml,pipelines/demo-train.toml)

# The pre-trained network (`make pretrained`): musicnn 0.1.0's MSD-VGG, imported from the PyPI wheel (ISC licence).
# A probe or fine-tuning configuration takes the network's front end (pipelines/musicnn.toml) and its own shards.
MUSICNN_WHEEL := models/musicnn-0.1.0-py3-none-any.whl
MUSICNN_MODEL := models/musicnn-msd-vgg.h5
TRANSFER := $(filter pipelines/probe.toml pipelines/finetune.toml,$(TRAIN_CONFIG))
FEATURES := $(if $(TRANSFER),shards-musicnn,shards)

ifeq ($(strip $(DATASET)),)
  CORPUS_ARGS = --corpus out/demo/corpus
  PIPELINE ?= $(if $(TRANSFER),pipelines/musicnn.toml,pipelines/demo.toml)
  OUT ?= out/demo/$(FEATURES)
  CORPUS_DEP = out/demo/corpus/.complete
else
  CORPUS_ARGS = --dataset $(DATASET) --datasets datasets
  PIPELINE ?= $(if $(TRANSFER),pipelines/musicnn.toml,pipelines/gtzan.toml)
  OUT ?= out/$(DATASET)/$(FEATURES)
  CORPUS_DEP =
endif

DEMO_CLIPS ?= 20
DEMO_SECONDS ?= 10

RUN ?= $(dir $(OUT))run$(if $(TRANSFER),-$(basename $(notdir $(TRANSFER))))
CHECKPOINT ?= $(RUN)/best.h5
SPLIT ?= test

.PHONY: pretrained setup build test test-slurm fuzz demo preprocess merge inspect train evaluate crossval bench bench-train bench-transfer bench-predict bench-onnx eval-real eval-transfer sweep-real golden clean help

help:
	@echo "make demo        install what is missing, build, synthesise a corpus, preprocess it, inspect the shards,"
	@echo "                 train the CNN on them and evaluate it on the test split (out/demo/run/evaluation-test/report.html)"
	@echo "make test        install what is missing, build and run every test"
	@echo "make preprocess  DATASET=name (see datasets.example) PIPELINE=pipelines/gtzan.toml OUT=dir [JOBS=n]"
	@echo "make preprocess  ... PART=K/N    one part of a partitioned run (then make merge OUT=dir)"
	@echo "make merge       OUT=dir          combine the parts into the shards a single run writes"
	@echo "make fuzz        SEEDS=20 ITERATIONS=300: fuzz the shard and checkpoint readers with mutated files"
	@echo "make test-slurm  partitioned preprocessing on a single-node Slurm cluster started here (root)"
	@echo "make inspect     OUT=dir"
	@echo "make train       OUT=shard-dir [RUN=run-dir] [TRAIN_CONFIG=pipelines/train.toml]"
	@echo "make evaluate    OUT=shard-dir [RUN=run-dir | CHECKPOINT=file] [SPLIT=test]"
	@echo "make crossval    DATASET=name FOLDS=5 [TRAIN_CONFIG=...]: stratified k-fold, out/<name>/crossval/report.html"
	@echo "make pretrained  download musicnn 0.1.0 (pip) and import its MSD-VGG into models/musicnn-msd-vgg.h5"
	@echo "make train       ... TRAIN_CONFIG=pipelines/probe.toml | pipelines/finetune.toml: a linear probe on, or"
	@echo "                 fine-tuning of, the pre-trained network (its front end: pipelines/musicnn.toml)"
	@echo "make bench-train training throughput against PyTorch (CPU, same model, batch and threads)"
	@echo "make eval-real   k-fold on the real GTZAN clips in GTZAN_MINI (../gtzan-mini): old and new defaults,"
	@echo "                 GenreKit and PyTorch side by side (skipped when the clips are absent)"
	@echo "make eval-transfer  from scratch, musicnn probe (GenreKit and scikit-learn) and fine-tuning on the same"
	@echo "                 folds of the real clips (needs make pretrained; skipped when the clips are absent)"
	@echo "make sweep-real  the sweep that chose pipelines/train.toml's defaults, on the same folds"
	@echo "make bench-transfer  the pre-trained network's embedding, fine-tuning and head-only throughput against PyTorch"
	@echo "make bench       preprocessing throughput against librosa and the FFTW floor, then bench-predict and bench-onnx"
	@echo "make bench-predict  genre predict over the demo corpus folder (files/s, peak RSS) and on one 30 s and one"
	@echo "                 60-minute file (peak RSS ratio) [BENCH_CHECKPOINT=file: else one trained for an epoch]"
	@echo "make bench-onnx  the exported default CNN in onnxruntime beside genre's own inference (windows/s, 2 threads)"
	@echo "make golden      regenerate the librosa golden files (needs librosa==0.11.0)"

setup:
	@scripts/setup.sh

build: setup
	swift build $(SWIFT_FLAGS) --product genre

# The tests and the tool are built as the two products they are: `--build-tests` alone would also build every
# executable of the dependencies, swift-protobuf's protoc (C++) among them, for minutes and for nothing.
TEST_BUILD := swift build $(SWIFT_FLAGS) --product GenreKitPackageTests && swift build $(SWIFT_FLAGS) --product genre

# Tests first, then the command line end to end, then interruptions and reruns, then partitioned runs as local
# processes and on a real (single-node) Slurm cluster.
test: setup
	$(TEST_BUILD)
	@$(MAKE) --no-print-directory $(MUSICNN_WHEEL) || echo "make test: the musicnn wheel could not be downloaded; the tests that need it skip"
	GENREKIT_MUSICNN_WHEEL=$(abspath $(MUSICNN_WHEEL)) swift test $(SWIFT_FLAGS) --skip-build
	GENRE=$(GENRE) scripts/smoke.sh
	GENRE=$(GENRE) scripts/resilience.sh
	GENRE=$(GENRE) scripts/partitioned.sh
	$(MAKE) --no-print-directory test-slurm

test-slurm: build
	GENRE=$(GENRE) scripts/slurm.sh

# Longer fuzzing of the shard and checkpoint readers than make test does, each seed in a child process.
fuzz: setup
	$(TEST_BUILD)
	scripts/fuzz_readers.sh $(SEEDS) $(ITERATIONS)

out/demo/corpus/.complete: | build
	$(GENRE) synth out/demo/corpus --clips-per-genre $(DEMO_CLIPS) --seconds $(DEMO_SECONDS) --seed 0
	touch $@

preprocess: build $(CORPUS_DEP)
	$(GENRE) preprocess $(CORPUS_ARGS) --pipeline $(PIPELINE) --out $(OUT) --jobs $(JOBS) $(if $(PART),--part $(PART))

merge: build
	$(GENRE) merge $(OUT) --jobs $(JOBS)

inspect: build
	$(GENRE) inspect $(OUT)

$(MUSICNN_WHEEL):
	@mkdir -p models
	python3 -m pip download --quiet --no-deps --dest models musicnn==0.1.0

$(MUSICNN_MODEL): $(MUSICNN_WHEEL) | build
	$(GENRE) pretrained import musicnn-msd-vgg --wheel $(MUSICNN_WHEEL) --out $@

pretrained: build $(MUSICNN_MODEL)

train: build $(if $(TRANSFER),$(MUSICNN_MODEL))
	@test -d $(OUT) || $(MAKE) preprocess
	$(GENRE) train --shards $(OUT) --out $(RUN) --config $(TRAIN_CONFIG)

evaluate: build
	@test -f $(CHECKPOINT) || $(MAKE) train
	$(GENRE) evaluate --checkpoint $(CHECKPOINT) --shards $(OUT) --split $(SPLIT) --out $(RUN)/evaluation-$(SPLIT)

demo: build out/demo/corpus/.complete
	$(GENRE) preprocess --corpus out/demo/corpus --pipeline pipelines/demo.toml --out out/demo/shards --jobs $(JOBS)
	$(GENRE) inspect out/demo/shards
	$(GENRE) train --shards out/demo/shards --out out/demo/run --config pipelines/demo-train.toml
	$(GENRE) evaluate --checkpoint out/demo/run/best.h5 --shards out/demo/shards --split test --out out/demo/run/evaluation-test
	$(GENRE) export --checkpoint out/demo/run/best.h5 --onnx out/demo/run/model.onnx

FOLDS ?= 5
CROSSVAL ?= $(dir $(OUT))crossval$(if $(TRANSFER),-$(basename $(notdir $(TRANSFER))))

crossval: build $(CORPUS_DEP) $(if $(TRANSFER),$(MUSICNN_MODEL))
	$(GENRE) crossval $(CORPUS_ARGS) --pipeline $(PIPELINE) --config $(TRAIN_CONFIG) --folds $(FOLDS) --out $(CROSSVAL) --jobs $(JOBS)

GTZAN_MINI ?= ../gtzan-mini

eval-real: build
	python3 scripts/eval_real.py --genre $(GENRE) --clips $(GTZAN_MINI) --folds $(FOLDS) --jobs $(JOBS)

eval-transfer: build $(MUSICNN_MODEL)
	python3 scripts/eval_transfer.py --genre $(GENRE) --clips $(GTZAN_MINI) --model $(MUSICNN_MODEL) --folds $(FOLDS) --jobs $(JOBS)

sweep-real: build
	python3 scripts/sweep_real.py --genre $(GENRE) --clips $(GTZAN_MINI) --folds $(FOLDS) --jobs $(JOBS)

bench: build
	python3 scripts/bench_preprocess.py --genre $(GENRE) --reference bench
	python3 scripts/bench_predict.py --genre $(GENRE) --jobs $(JOBS) $(if $(BENCH_CHECKPOINT),--checkpoint $(BENCH_CHECKPOINT))
	python3 scripts/bench_onnx.py --genre $(GENRE) --threads 2

BENCH_CHECKPOINT ?=

bench-predict: build out/demo/corpus/.complete
	python3 scripts/bench_predict.py --genre $(GENRE) --jobs $(JOBS) --corpus out/demo/corpus $(if $(BENCH_CHECKPOINT),--checkpoint $(BENCH_CHECKPOINT))

bench-train: build
	python3 scripts/bench_train.py --genre $(GENRE) --threads $(JOBS) --reference bench

bench-onnx: build
	python3 scripts/bench_onnx.py --genre $(GENRE) --threads 2

bench-transfer: build $(MUSICNN_MODEL)
	python3 scripts/bench_transfer.py --genre $(GENRE) --model $(MUSICNN_MODEL) --threads $(JOBS)

golden:
	python3 scripts/make_golden.py

clean:
	rm -rf .build out
