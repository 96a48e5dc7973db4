"""Typed pipeline parameters: one section per `params.yaml` section, loaded and validated once.

Every stage calls `load_params(path)` before doing any work, so a misspelt key, a wrong type or an impossible
value stops the pipeline with a message that names the key and says how to fix it.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from ailab.datasets import CorpusSpec
    from ailab.trainers import TrainingConfig


class ParamsError(ValueError):
    """A `params.yaml` that cannot be used, with one line per problem."""


class Section(BaseModel):
    """Base of every params section: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DataParams(Section):
    """Where the training text comes from."""

    source: Literal["builtin", "hf", "local"] = "builtin"
    """`builtin` (generated children's stories, offline), `hf` (a Hugging Face dataset) or `local` (files)."""
    name: str | None = None
    """Hugging Face dataset id (e.g. `roneneldan/TinyStories`) or a local dataset directory, for `source: hf`."""
    path: str | None = None
    """A `.txt`, `.jsonl` or `.parquet` file, a glob or a directory, for `source: local`."""
    split: str = "train"
    """Split (hf) used for training."""
    validation_split: str | None = None
    """Split (hf) or file/glob (local) used for validation; `null` holds out `validation_fraction` of the documents."""
    text_field: str = "text"
    """Record field that holds the document text (hf, jsonl, parquet)."""
    streaming: bool = False
    """Stream the hf dataset instead of downloading it whole."""
    max_documents: int | None = Field(default=None, gt=0)
    """Cap on the number of training documents (`null`: all)."""
    separator: str = "<|endoftext|>"
    """Line that separates documents in `.txt` files (TinyStories' format)."""
    validation_fraction: float = Field(default=0.05, gt=0.0, lt=1.0)
    """Share of documents held out for validation when there is no validation split."""
    num_stories: int = Field(default=6000, gt=0)
    """Number of built-in stories to generate (`source: builtin`)."""
    seed: int = 0
    """Seed of the built-in corpus and of the validation hold-out."""

    @model_validator(mode="after")
    def _source_has_location(self) -> DataParams:
        if self.source == "hf" and not self.name:
            raise ValueError("data.name is required when data.source is 'hf' (e.g. roneneldan/TinyStories)")
        if self.source == "local" and not self.path:
            raise ValueError(
                "data.path is required when data.source is 'local' (a .txt/.jsonl/.parquet file, glob or dir)"
            )
        return self

    def corpus_spec(self) -> CorpusSpec:
        """The library's description of the same corpus."""
        from ailab.datasets import CorpusSpec

        return CorpusSpec(**self.model_dump())


class TokenizerParams(Section):
    """Which tokenizer the `train_tokenizer` stage builds."""

    kind: Literal["bpe", "ascii", "sentencepiece", "tinystories-bpe-8k"] = "bpe"
    """`bpe` (byte-level BPE), `ascii` (characters, nothing to train), `sentencepiece` (LLaMA-style) or
    `tinystories-bpe-8k` (the 8,192-token BPE shipped with ailab, pre-trained on real TinyStories: nothing to train)."""
    vocab_size: int | None = Field(default=8192, ge=64, le=1_000_000)
    """Vocabulary size for trained tokenizers (ignored by `ascii`; 8192 or `null` with `tinystories-bpe-8k`).
    8192 with `bpe` is the TinyStories 8k recipe."""
    max_documents: int | None = Field(default=None, gt=0)
    """Train the tokenizer on at most this many training documents (`null`: all)."""

    @model_validator(mode="after")
    def _vocab_size_fits_kind(self) -> TokenizerParams:
        from ailab.tokenizers.loading import check_vocab_size

        try:
            check_vocab_size(self.kind, self.vocab_size)
        except ValueError as e:
            raise ValueError(f"tokenizer.vocab_size: {e}") from None
        return self


class CorpusParams(Section):
    """How the `prepare` stage packs tokens and what `dump_corpus` shows."""

    add_bos: bool = False
    """Put the tokenizer's BOS token before every document (EOS always follows each document)."""
    num_proc: int | None = Field(default=None, gt=0)
    """Processes that tokenize in parallel (`null`: all cores)."""
    dump_windows: int = Field(default=8, gt=0)
    """How many packed windows `dump_corpus` decodes into `reports/corpus/dump.txt`."""
    dump_window_length: int = Field(default=256, gt=0)
    """Tokens per dumped window."""


class ModelParams(Section):
    """The architecture trained by the `train` stage; vocabulary and special tokens come from the tokenizer."""

    arch: Literal["gpt2", "llama"] = "gpt2"
    """`gpt2` (learned positions, LayerNorm, GELU) or `llama` (RoPE, RMSNorm, SwiGLU, GQA)."""
    n_ctx: int = Field(default=128, gt=0)
    """Context length in tokens; also the length of the training windows."""
    n_layers: int = Field(default=4, gt=0)
    """Transformer blocks."""
    d_model: int = Field(default=128, gt=0)
    """Residual stream width."""
    n_heads: int = Field(default=4, gt=0)
    """Attention heads; must divide `d_model`."""
    n_kv_heads: int | None = Field(default=None, gt=0)
    """LLaMA only: key/value heads (grouped-query attention); must divide `n_heads`. `null`: `n_heads`."""
    d_ff: int | None = Field(default=None, gt=0)
    """Feed-forward width. `null`: 4·d_model (GPT-2), or 2/3·4·d_model rounded up to `multiple_of` (LLaMA's SwiGLU)."""
    multiple_of: int = Field(default=32, gt=0)
    """LLaMA only: SwiGLU width is rounded up to a multiple of this."""
    rope_theta: float = Field(default=10000.0, gt=0)
    """LLaMA only: rotary embedding base."""
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Dropout probability during training."""
    tie_embeddings: bool | None = None
    """Share the input embedding with the output head. `null`: the architecture's default (GPT-2 yes, LLaMA no)."""

    @model_validator(mode="after")
    def _shapes_fit(self) -> ModelParams:
        if self.d_model % self.n_heads:
            raise ValueError(
                f"model.d_model ({self.d_model}) must be divisible by model.n_heads ({self.n_heads}); "
                f"pick n_heads among {_divisors(self.d_model)} or change d_model"
            )
        if self.arch == "gpt2":
            for key in ("n_kv_heads",):
                if getattr(self, key) is not None:
                    raise ValueError(f"model.{key} applies to arch 'llama' only; remove it or set model.arch: llama")
        elif self.n_kv_heads is not None and self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"model.n_heads ({self.n_heads}) must be divisible by model.n_kv_heads ({self.n_kv_heads}); "
                f"pick n_kv_heads among {_divisors(self.n_heads)}"
            )
        return self

    def config_fields(self, vocab_size: int, bos_token_id: int | None, eos_token_id: int | None) -> dict[str, Any]:
        """Keyword arguments for `ailab.models.build_model(arch, **fields)` given the tokenizer's vocabulary."""
        fields: dict[str, Any] = dict(
            vocab_size=vocab_size,
            n_ctx=self.n_ctx,
            n_layers=self.n_layers,
            d_model=self.d_model,
            n_heads=self.n_heads,
            d_ff=self.d_ff,  # None: the model config derives the architecture's default
            dropout=self.dropout,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
        )
        if self.arch == "llama":
            fields.update(n_kv_heads=self.n_kv_heads, multiple_of=self.multiple_of, rope_theta=self.rope_theta)
        if self.tie_embeddings is not None:
            fields["tie_embeddings"] = self.tie_embeddings
        return fields


class TrainParams(Section):
    """Optimisation and checkpointing for the `train` stage (maps onto `ailab.trainers.TrainingConfig`)."""

    max_steps: int = Field(default=300, gt=0)
    """Optimizer steps."""
    batch_size: int = Field(default=16, gt=0)
    """Windows per micro-batch (per process under torchrun)."""
    gradient_accumulation_steps: int = Field(default=1, gt=0)
    """Micro-batches accumulated per optimizer step."""
    learning_rate: float = Field(default=2e-3, gt=0)
    """Peak learning rate, reached after warm-up."""
    min_learning_rate: float = Field(default=2e-4, ge=0)
    """Learning rate at the last step (cosine decay)."""
    warmup_steps: int = Field(default=30, ge=0)
    """Linear warm-up steps."""
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    """Decay after warm-up."""
    weight_decay: float = Field(default=0.1, ge=0)
    """AdamW weight decay on matrices (not on biases, norms, embeddings)."""
    adam_beta1: float = Field(default=0.9, gt=0, lt=1)
    """AdamW β1."""
    adam_beta2: float = Field(default=0.95, gt=0, lt=1)
    """AdamW β2."""
    max_grad_norm: float | None = Field(default=1.0, gt=0)
    """Gradient clipping threshold (`null`: no clipping; the norm is logged either way)."""
    window_stride: int | None = Field(default=None, gt=0)
    """Step between training window starts in the packed stream (`null`: `model.n_ctx`, no overlap)."""
    eval_steps: int | None = Field(default=100, gt=0)
    """Evaluate on the validation windows every this many steps (`null`: never during training)."""
    eval_batches: int | None = Field(default=8, gt=0)
    """Validation batches per evaluation during training (`null`: all)."""
    save_steps: int | None = Field(default=100, gt=0)
    """Write a resumable checkpoint every this many steps (`null`: only at the end and on interrupt)."""
    save_total_limit: int | None = Field(default=2, gt=0)
    """Keep at most this many checkpoints (oldest pruned)."""
    log_checkpoints: bool = False
    """Also upload every periodic checkpoint to the MLflow run (the final model is always uploaded)."""
    log_system_metrics: bool = False
    """Sample CPU, memory and GPU use (`system/...` metrics) into the MLflow run of `train` while it trains."""
    logging_steps: int = Field(default=10, gt=0)
    """Log loss, learning rate, grad norm and tokens/s every this many steps."""
    mixed_precision: Literal["auto", "bf16", "fp16", "no"] = "auto"
    """Autocast dtype: `auto` is bf16 where the device supports it, else full precision."""
    compile: bool = False
    """Compile the model with `torch.compile`."""
    peak_flops: float | None = Field(default=None, gt=0)
    """Peak FLOP/s of one device for the logged MFU (`null`: the CUDA card's dense bf16 peak, looked up by name)."""
    seed: int = 0
    """Seed of initialisation, data order and dropout."""

    @model_validator(mode="after")
    def _lrs_ordered(self) -> TrainParams:
        if self.min_learning_rate > self.learning_rate:
            raise ValueError(
                f"train.min_learning_rate ({self.min_learning_rate}) is above train.learning_rate "
                f"({self.learning_rate}); lower it (0 decays to zero)"
            )
        if self.warmup_steps >= self.max_steps:
            raise ValueError(
                f"train.warmup_steps ({self.warmup_steps}) must be smaller than train.max_steps ({self.max_steps})"
            )
        return self

    def training_config(self, output_dir: Path, device: str) -> TrainingConfig:
        """The library's `TrainingConfig` for these params (checkpoints in `output_dir`, on `device`)."""
        from ailab.trainers import TrainingConfig

        return TrainingConfig(
            output_dir=str(output_dir),
            max_steps=self.max_steps,
            learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate,
            warmup_steps=self.warmup_steps,
            lr_scheduler=self.lr_scheduler,
            weight_decay=self.weight_decay,
            adam_betas=(self.adam_beta1, self.adam_beta2),
            max_grad_norm=self.max_grad_norm or 0.0,
            train_batch_size=self.batch_size,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            eval_steps=self.eval_steps,
            eval_batches=self.eval_batches,
            save_steps=self.save_steps,
            save_total_limit=self.save_total_limit,
            logging_steps=self.logging_steps,
            mixed_precision=self.mixed_precision,
            compile=self.compile,
            peak_flops=self.peak_flops,
            seed=self.seed,
            device=device,
        )


class EvalParams(Section):
    """The `evaluate` stage: loss, perplexity and bits per byte on the validation split."""

    batch_size: int = Field(default=16, gt=0)
    """Windows per evaluation batch."""
    max_batches: int | None = Field(default=None, gt=0)
    """Evaluate at most this many batches (`null`: the whole validation split)."""


class GenerateParams(Section):
    """The `generate` stage: samples from the final model."""

    prompts: list[str] = Field(
        default_factory=lambda: ["Once upon a time", "One day, a little girl named", "The dog was sad because"],
        min_length=1,
    )
    """Prompts to continue."""
    num_samples: int = Field(default=2, gt=0)
    """Samples per prompt."""
    max_new_tokens: int = Field(default=100, gt=0)
    """New tokens per sample (capped by the model's context)."""
    temperature: float = Field(default=0.8, ge=0)
    """Softmax temperature; 0 is greedy."""
    top_k: int | None = Field(default=None, gt=0)
    """Keep only the k most likely tokens (`null`: off)."""
    top_p: float | None = Field(default=0.9, gt=0, le=1)
    """Nucleus sampling: keep the smallest set of tokens with this much probability (`null`: off)."""
    seed: int = 0
    """Seed of the first sample; sample i uses seed + i."""
    compile: bool = False
    """Decode with the one-token step compiled by torch.compile (static cache; one graph for all positions)."""


class Params(Section):
    """The whole of `params.yaml`."""

    data: DataParams = DataParams()
    tokenizer: TokenizerParams = TokenizerParams()
    corpus: CorpusParams = CorpusParams()
    model: ModelParams = ModelParams()
    train: TrainParams = TrainParams()
    eval: EvalParams = EvalParams()
    generate: GenerateParams = GenerateParams()

    def flat(self) -> dict[str, Any]:
        """Every parameter as `section.key: value` (what MLflow records)."""
        return flatten(self.model_dump())


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into dotted keys: {"model": {"d_model": 8}} -> {"model.d_model": 8}."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate `params.yaml`; raise `ParamsError` naming every bad key and how to fix it."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such params file; run from the repository root or pass --params PATH")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from err
    return params_from_dict(raw, source=str(path))


def params_from_dict(raw: Any, source: str = "params") -> Params:
    """Validate an already-parsed params mapping (the same checks as `load_params`)."""
    if not isinstance(raw, dict):
        raise ParamsError(
            f"{source}: expected a mapping of sections ({', '.join(Params.model_fields)}), got {type(raw).__name__}"
        )
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(f"{source}: invalid parameters:\n" + "\n".join(_describe(e) for e in err.errors())) from None


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        section_model = _section_model(loc[:-1])
        known = list(section_model.model_fields) if section_model else []
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        return f"  - {key}: unknown key; {hint}"
    if error["type"] == "value_error":
        return f"  - {error['msg'].removeprefix('Value error, ')}"
    return f"  - {key}: {error['msg']} (got {error.get('input')!r})"


def _section_model(loc: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] = Params
    for part in loc:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0][:12]
