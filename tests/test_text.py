from hypothesis import example, given
from hypothesis import strategies as st

from seenpapers.text import arxiv_id, clean, title_key, title_words, unwrap, words


def test_title_key_ignores_case_punctuation_and_spacing():
    assert title_key("G-SimCLR : Self-Supervised Contrastive Learning") == title_key(
        "g-simclr: self supervised  contrastive learning"
    )


def test_title_key_reads_latex_like_its_rendered_text():
    assert title_key("$\\tau$-bench: A Benchmark for Tool-Agent-User Interaction") == title_key(
        "τ-bench: A Benchmark for Tool-Agent-User Interaction"
    )
    assert title_key("$\\textit{Trans-LoRA}$: towards data-free Transferable") == title_key(
        "Trans-LoRA: towards data-free Transferable"
    )
    assert title_key("$\\nabla^2$DFT: A Universal Dataset") == title_key("nabla^2DFT: A Universal Dataset")
    assert title_key("LLM$\\times$MapReduce: Simplified") == title_key("LLMtimesMapReduce: Simplified")
    assert title_key("LLM×MapReduce: Simplified") == title_key("LLMtimesMapReduce: Simplified")
    assert title_key("Super-Resolution ($\\times$4)") == title_key("Super-Resolution (×4)")
    assert title_key("the $\\ell_1$ regularization") == title_key("the ℓ1 regularization")
    assert title_key("360$^\\circ$ Horizons") == title_key("360° Horizons")
    assert title_key("$\\underline{D}$ual-$\\mathbf{\\texttt{H}}$ead") == title_key("Dual-Head")
    assert title_key("SL$^{2}$A-INR") == title_key("SL²A-INR")


def test_title_key_folds_unicode_forms_and_accents():
    assert title_key("$μ$LO: Compute-Efficient") == title_key("µLO: Compute-Efficient")  # micro sign
    assert title_key("Naïve Bayes Ｒｅｖｉｓｉｔｅｄ") == title_key("naive bayes revisited")
    assert title_key("Ἀλφα-Net") == title_key("$\\alpha\\lambda\\phi\\alpha$-net")


def test_title_key_keeps_words_of_any_script_apart():
    assert title_key("日本語の論文") != title_key("中文论文")
    assert title_key("Pointer Networks") != title_key("Pointer Network")


def test_title_words_are_the_key_split_into_words():
    assert title_words("Thé Prötocol Genome: $\\tau$-Bench++") == ["the", "protocol", "genome", "tau", "bench", "plus", "plus"]
    assert "".join(title_words("Naïve Bayes Ｒｅｖｉｓｉｔｅｄ")) == title_key("Naïve Bayes Ｒｅｖｉｓｉｔｅｄ")


def test_title_key_keeps_the_plus_of_a_next_version():
    assert title_key("Att-Adapter++: A Robust Adapter") != title_key("Att-Adapter: A Robust Adapter")
    assert title_key("Vision+Language") == title_key("Vision + Language")


def test_title_key_of_empty_or_punctuation_is_empty():
    assert title_key("") == title_key(None) == title_key(" :-- ") == ""


@given(st.text(min_size=1, max_size=80))
@example("ἀ")  # Greek with a breathing mark: named only once its accent is split off
def test_title_key_is_stable_under_case_and_spacing(title):
    assert title_key(title.upper()) == title_key(title.upper() + "  ")
    assert title_key(title_key(title)) == title_key(title)


def test_unwrap_joins_hard_wrapped_lines_and_keeps_paragraphs():
    assert unwrap("High-resolution models encounter\nthe challenges of\n  excessive tokens.") == (
        "High-resolution models encounter the challenges of excessive tokens."
    )
    assert unwrap("First part.\n\nSecond\npart.") == "First part.\n\nSecond part."


def test_clean_removes_control_characters():
    assert clean("A\x00 title\u200b with\tjunk\x1b") == "A title with junk"


def test_arxiv_id_drops_versions_and_reads_urls():
    assert arxiv_id("2405.15738v2") == "2405.15738"
    assert arxiv_id("https://arxiv.org/abs/2501.01234v1") == "2501.01234"
    assert arxiv_id("https://huggingface.co/papers/2405.15738") == "2405.15738"
    assert arxiv_id("oai:arXiv.org:2501.01234") == "2501.01234"
    assert arxiv_id("arXiv:hep-th/9901001v3") == "hep-th/9901001"
    assert arxiv_id("no id here") is None
    assert arxiv_id("12345.6789") is None


@given(st.text(max_size=80))
@example("Prötocol ++ $\\tau$")
def test_title_words_join_to_the_title_key(title):
    assert "".join(title_words(title)) == title_key(title)


def test_words_spell_every_number_alike_and_drop_punctuation():
    assert words("We reach 93.5% on GSM8K, (up 12 points)!") == ["we", "reach", "0", "0", "on", "gsm0k", "up", "0", "points"]
    assert words("Naïve “quotes” 2024") == ["naïve", "quotes", "0"]


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_words_of_ascii_text_take_the_same_path_as_any_text(s):
    # The fast path (ASCII) and the general one must agree, or a curly quote in one copy
    # of an abstract would change all its words.
    assert words(s + " é") == words(s) + ["é"]


@given(st.text(max_size=300))
@example("foo\x0bbar\u200bbaz\n\nqux 12\x7f3")
def test_words_do_not_care_whether_an_abstract_was_unwrapped(s):
    # Lookups hash the abstract as sent; ingest hashes the unwrapped one: the same words.
    assert words(unwrap(s)) == words(s)
