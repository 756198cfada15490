// Package textindex turns transcripts into the keywords the text analytics
// reports read. It sits on models, beside the reports engine: Keywords is
// the tokenizer of docs/data-model.md "Text analytics: keywords and sentiment", and Indexer fills
// session_keywords for closed sessions, incrementally (each session once,
// marked by chat_sessions.keywords_indexed_at) or from scratch.
//
// The fixtures generator uses the same tokenizer, so generated data and
// indexed data agree.
package textindex
