"""Text handling, one way each: the ground floor every other layer may use.

- `chars`: which characters count as Chinese (HAN, CJK_TEXT, …).
- `cleaning`: spoken filler, slide-template noise and spaces.
- `sentences`: where sentences and clauses end.
- `words`: the jieba tokeniser and its stopwords (domain words passed in).
- `quotes`: which passage holds a quote.

Imports only the standard library, jieba and `bot.text` itself.
"""
