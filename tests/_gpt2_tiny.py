"""A tiny randomly initialised GPT-2 checkpoint, written with ``transformers`` and
``tokenizers`` exactly as ``save_pretrained`` writes a real one: nothing is downloaded.

Used by ``tests/nn/test_gpt2_checkpoint.py`` and ``tests/test_lm.py``; callers skip when
either package is missing (``pytest.importorskip``).
"""

import torch

TEXT = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n"
) * 20


def make_tiny_gpt2(path, *, n_positions=24, vocab_size=320, seed=0):
    """Write a GPT-2 checkpoint (config, weights, vocab.json + merges.txt) into ``path``.

    Returns the ``transformers.GPT2LMHeadModel`` (eval mode) that was saved.
    """
    import tokenizers as tk
    import transformers

    tokenizer = tk.Tokenizer(tk.models.BPE())
    tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([TEXT], trainer=trainer)
    tokenizer.model.save(str(path))  # GPT-2's tokenizer files: vocab.json, merges.txt
    eos = tokenizer.token_to_id("<|endoftext|>")
    config = transformers.GPT2Config(
        vocab_size=tokenizer.get_vocab_size(),
        n_positions=n_positions,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=eos,
        eos_token_id=eos,
        initializer_range=0.2,  # larger than GPT-2's 0.02, so every layer matters
    )
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(path)
    return model
