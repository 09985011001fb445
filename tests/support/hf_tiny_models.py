"""Tiny Hugging Face checkpoints built on the spot (no downloads) for the huggingface_local tests.

A word-level tokenizer is trained on a small corpus with the ``tokenizers`` library; a two-layer
GPT-2 (with a chat template on its tokenizer) and a one-layer T5 (with a summarisation prefix in
its ``task_specific_params``) are created from their configuration classes with fixed seeds and
saved with ``save_pretrained``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "a model reads tokens and writes tokens one at a time",
    "user : hello there how are you today ?",
    "assistant : fine thanks and you ?",
    "system : be brief and kind",
    "summarize : the cat sat on the mat all day long",
    "translate English to German : good morning",
    "one two three four five six seven eight nine ten",
    "red green blue yellow white black",
]
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<s> {{ m['role'] }} : {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<s> assistant :{% endif %}"
)


def make_tokenizer(chat_template: str | None, *, pad: bool = True) -> Any:
    """A word-level fast tokenizer (decode joins words with spaces, so streams flow per word).

    Without ``pad`` it has no padding token, like many released checkpoints (modelwire then pads
    with the end-of-sequence token)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(CORPUS * 3, trainers.WordLevelTrainer(special_tokens=SPECIALS))
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token="<pad>" if pad else None,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
    )
    if chat_template:
        tok.chat_template = chat_template
    return tok


def build_gpt2(
    path: Path, *, chat_template: str | None = CHAT_TEMPLATE, pad: bool = True, context: int = 64
) -> Path:
    """A 2-layer GPT-2 with a 64-token context by default (``pad``: see ``make_tokenizer``)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = make_tokenizer(chat_template, pad=pad)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=context,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def build_t5(path: Path) -> Path:
    """A 1+1-layer T5 whose checkpoint carries a summarisation prefix."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tok = make_tokenizer(None)
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(tok),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        decoder_start_token_id=tok.pad_token_id,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        task_specific_params={
            "summarization": {"prefix": "summarize : ", "max_length": 7, "min_length": 2}
        },
    )
    T5ForConditionalGeneration(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def write_config_only(path: Path, config: dict[str, Any]) -> Path:
    """A directory holding only a config.json (enough to be recognised and refused)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return path
