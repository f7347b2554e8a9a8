from transformers import CLIPTokenizer

from bierase.toyworld.tokenizer import build_tokenizer
from bierase.toyworld.vocabulary import all_words


def test_every_world_word_is_one_token_and_other_text_still_tokenizes(tmp_path):
    tokenizer = build_tokenizer(all_words())
    for word in all_words():
        assert len(tokenizer(word, add_special_tokens=False).input_ids) == 1, word
    unknown = tokenizer("zebra!", add_special_tokens=False).input_ids
    assert len(unknown) > 1  # spelled out in byte symbols, not dropped
    tokenizer.save_pretrained(tmp_path)
    again = CLIPTokenizer.from_pretrained(tmp_path)
    text = "a crimson spotted star on a dark background"
    assert again(text).input_ids == tokenizer(text).input_ids
    assert len(again(text, padding="max_length").input_ids) == tokenizer.model_max_length
