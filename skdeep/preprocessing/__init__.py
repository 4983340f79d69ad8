"""Data adapters: plain classes that learn from training data and map it to model
inputs and back (tabular columns, text)."""

from skdeep.preprocessing.lm_tokenizers import BPETokenizer, ByteTokenizer, CharTokenizer
from skdeep.preprocessing.tabular import TabularEncoder
from skdeep.preprocessing.text import PAD_ID, UNK_ID, TextVocabulary, check_texts

__all__ = [
    "PAD_ID",
    "UNK_ID",
    "BPETokenizer",
    "ByteTokenizer",
    "CharTokenizer",
    "TabularEncoder",
    "TextVocabulary",
    "check_texts",
]
