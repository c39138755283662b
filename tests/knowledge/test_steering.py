"""What the person told us steers the ranking: provider, client, lookalikes, language.

These run on the shipped knowledge (the articles they are about exist only there).
"""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase, get_knowledge, search
from knowledge.bm25 import PlainBM25, term_scores
from knowledge.mentions import find_mentions
from knowledge.names import vocabulary
from knowledge.search import CONFIDENCE_FLOOR
from knowledge.steering import _others_own_articles, foreign_text, steer


@pytest.fixture(scope="module")
def real() -> KnowledgeBase:
    return get_knowledge()


def _top(kb: KnowledgeBase, question: str, n: int = 1) -> list[str]:
    return [answer.article.id for answer in search(kb, question).answers[:n]]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("my icloud password is rejected when sending from thunderbird", "app-passwords"),
        ("my yahoo password is rejected when sending from thunderbird", "app-passwords"),
        ("password rejected when sending, my address is me@qq.com", "authorization-code-cn"),
        ("password rejected when sending from my 163 mailbox", "authorization-code-cn"),
        (
            "smtp login fails with my 126.com address although the password is correct",
            "authorization-code-cn",
        ),
        ("hotmail password rejected when sending", "outlook-com-oauth-only"),
        ("password rejected when sending from my gmail, i have 2fa on", "app-passwords"),
        ("my yandex password is rejected when sending from thunderbird", "app-passwords"),
        ("gmx password is rejected when sending from outlook", "enable-smtp-access"),
        # Korean: "Naver mail won't send from Thunderbird, the password is right"
        ("Thunderbird에서 네이버 메일 보내기가 안돼요 비밀번호 맞는데", "app-passwords"),
    ],
)
def test_named_provider_lifts_its_sign_in_article(
    real: KnowledgeBase, question: str, expected: str
) -> None:
    """The provider named (or its address or host) lifts the article about its own rules."""
    assert _top(real, question) == [expected]


def test_without_the_provider_the_same_words_rank_otherwise(real: KnowledgeBase) -> None:
    """The lift comes from the provider, not the words: without it another article leads."""
    assert _top(real, "my password is rejected when sending from thunderbird") != ["app-passwords"]
    control = "smtp login fails although the password is correct"
    assert _top(real, control) != ["authorization-code-cn"]


def test_chinese_question_lifts_the_authorization_code_article(real: KnowledgeBase) -> None:
    """Chinese with our Chinese vocabulary is read: confident, and the right article."""
    for question in ("qq邮箱授权码在哪里", "163邮箱发送失败 535", "网易邮箱 smtp 密码不对"):
        result = search(real, question)
        assert result.answers[0].article.id == "authorization-code-cn", question
        assert result.confidence >= CONFIDENCE_FLOOR


def test_an_article_many_providers_share_is_nobodys_own(real: KnowledgeBase) -> None:
    """GMX, Naver and others list the app-access switch and app passwords, but a question
    naming another provider does not hold those articles back, as it holds back Outlook.com's
    OAuth-only article when Gmail is named."""
    held_back = set(_others_own_articles(real, "microsoft365"))
    assert "outlook-com-oauth-only" in held_back and "authorization-code-cn" in held_back
    assert not held_back & {"enable-smtp-access", "app-passwords"}
    assert "enable-smtp-access" in real.providers["naver"].articles


def test_another_clients_article_is_held_back(real: KnowledgeBase) -> None:
    """A K-9/Android user gets the Android article and never the Apple Mail one."""
    question = "K-9 mail on android will not send, the outgoing server rejects my login"
    top = _top(real, question, 3)
    assert top[0] == "client-android"
    assert "client-apple-mail" not in top


def test_names_match_whole_words(real: KnowledgeBase) -> None:
    """ "kiosk" contains "ios" but names no client; a real typo ("outlok") still counts."""
    assert search(real, "my kiosk app cannot send email, smtp login fails").client is None
    assert find_mentions(real, "the kiosk cannot send").client is None
    assert search(real, "outlok wont send my mail").client == "outlook"
    assert find_mentions(real, "my iphone cannot send").client == "ios-mail"


def test_mentions_read_addresses_hosts_and_chinese_names(real: KnowledgeBase) -> None:
    """Address and host beat words; Chinese names are found inside unspaced text."""
    assert find_mentions(real, "I send as Bob@QQ.com from outlook").provider == "qq"
    assert find_mentions(real, "네이버 메일 비밀번호").provider == "naver"
    assert find_mentions(real, "아웃룩에서 한메일이 안 보내져요").provider == "daum"
    assert find_mentions(real, "sending as kim@hanmail.net fails").provider == "daum"
    assert find_mentions(real, "server smtp.163.com port 465").provider == "netease-163"
    assert find_mentions(real, "我的网易邮箱发不出去").provider == "netease-163"
    assert find_mentions(real, "腾讯企业邮箱客户端专用密码").provider == "tencent-exmail"
    found = find_mentions(real, "write to help@example.org about gmail")
    assert (found.email, found.provider) == ("help@example.org", "gmail")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how do i enable smtp in my account settings on the provider side", "enable-smtp-access"),
        (
            "my mail program does not have outgoing server requires authentication ticked",
            "enable-smtp-auth-in-client",
        ),
        ("too many failed logins, my account is locked", "account-lockout"),
        ("provider says suspicious sign in blocked from my mail app", "sign-in-blocked"),
        ("i changed my password and now email wont send", "reset-password"),
        ("server says 432 4.7.12 password transition needed", "password-transition"),
    ],
)
def test_lookalikes_are_told_apart(real: KnowledgeBase, question: str, expected: str) -> None:
    """Twins that share most words are decided by the words that are not shared."""
    assert _top(real, question) == [expected]


def test_lookalike_settling_uses_only_the_words_not_shared(real: KnowledgeBase) -> None:
    """Neck and neck on shared words, the twin whose own words were used moves first."""
    articles = list(real.articles)
    positions = {article_id: i for i, article_id in enumerate(articles)}
    a, b = positions["account-lockout"], positions["sign-in-blocked"]
    tokens = [frozenset({"shared"})] * len(articles)
    tokens[a] = frozenset({"shared", "lockout"})
    tokens[b] = frozenset({"shared", "suspicious"})
    idf = {"shared": 1.0, "lockout": 1.0, "suspicious": 1.0}
    nobody = find_mentions(real, "nothing named here")
    for words, winner, loser in (
        (["shared", "suspicious"], b, a),
        (["shared", "lockout"], a, b),
    ):
        score = [0.0] * len(articles)
        score[a], score[b] = (1.0, 0.9) if winner == b else (0.9, 1.0)
        steer(real, positions, tokens, idf, score, nobody, words)
        assert score[winner] > score[loser]
    score = [0.0] * len(articles)
    score[a], score[b] = 1.0, 0.9
    steer(real, positions, tokens, idf, score, nobody, ["shared"])
    assert score[a] > score[b]  # shared words alone change nothing


def test_quoted_reply_is_evidence_not_the_whole_question(real: KnowledgeBase) -> None:
    """The words around a quoted reply still count: the same reply, a different question."""
    reply = "535-5.7.8 Username and Password not accepted."
    assert _top(real, reply) == ["app-passwords"]
    question = reply + " I use Thunderbird, should I switch authentication to OAuth2 instead?"
    assert _top(real, question)[0] in {"oauth-token-errors", "oauth-modern-auth"}


@pytest.mark.parametrize(
    "question",
    [
        "Mein E-Mail-Programm kann nicht senden, was ist das Problem mit dem Server?",
        "No puedo enviar correos desde mi cuenta, que hago con la configuración?",
        "テナント全体でSMTP AUTHを無効にしているのですが、有効にできますか",
        "이메일을 보낼 수 없습니다 smtp 어떻게 해야 하나요",
        "почему не отправляется почта smtp",
    ],
)
def test_unreadable_language_is_never_confident(real: KnowledgeBase, question: str) -> None:
    """A question we have no vocabulary for gets an honest low confidence (or nothing)."""
    assert search(real, question).confidence < CONFIDENCE_FLOOR
    assert foreign_text(question, vocabulary(real))


def _mis_decoded(text: str) -> str:
    """``text`` as a Windows-1252 reader shows its UTF-8 bytes."""
    return text.encode("utf-8").decode("cp1252", errors="replace")


@pytest.mark.parametrize(
    "question",
    [
        _mis_decoded("не могу отправить письмо"),  # "Ð½Ðµ Ð¼Ð¾Ð³Ñƒ ..."
        _mis_decoded("пароль не подходит"),
        "ο κωδικός μου δεν λειτουργεί",  # noqa: RUF001 (Greek is meant)
        "3 4 1 2",  # numbers, no reply among them
    ],
)
def test_mis_decoded_or_unread_script_text_is_never_confident(
    real: KnowledgeBase, question: str
) -> None:
    """Mojibake keeps no word we read, only the digits its "½" and "¾" fold into."""
    assert search(real, question).confidence < CONFIDENCE_FLOOR


def test_a_bare_reply_code_asked_is_still_confident(real: KnowledgeBase) -> None:
    assert search(real, "535 5.7.8").confidence >= CONFIDENCE_FLOOR


def test_english_is_not_taken_for_foreign(real: KnowledgeBase) -> None:
    names = vocabulary(real)
    assert not foreign_text("my outlook will not send, the server says 535", names)
    assert not foreign_text("qq邮箱授权码在哪里", names)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("do i need an authenticator app code for smtp", "app-passwords"),
        ("I turned on 2SV and now my mail app cannot send", "app-passwords"),
        ("where do I get an app-specific password for smtp", "app-passwords"),
        ("where is the authorization code for my mailbox smtp", "authorization-code-cn"),
    ],
)
def test_vocabulary(real: KnowledgeBase, question: str, expected: str) -> None:
    assert _top(real, question) == [expected]


def test_bm25_matches_the_okapi_formula() -> None:
    """PlainBM25 gives the textbook Okapi scores (k1 1.5, b 0.75, floored idf)."""
    import math

    corpus = [["smtp", "port"], ["smtp", "smtp", "password"], ["tls"], ["smtp", "app"]]
    scores = PlainBM25(corpus).get_scores(["password", "smtp"])
    avgdl = sum(map(len, corpus)) / len(corpus)
    idf_password = math.log((4 - 1 + 0.5) / (1 + 0.5))
    norm = 1.5 * (1 - 0.75 + 0.75 * 3 / avgdl)
    expected_password = idf_password * 1 * 2.5 / (1 + norm)
    smtp_idf = math.log((4 - 3 + 0.5) / (3 + 0.5))  # negative: floored
    idfs = [math.log((4 - n + 0.5) / (n + 0.5)) for n in (3, 1, 1, 1, 1)]
    floor = 0.25 * sum(idfs) / len(idfs)
    assert smtp_idf < 0
    expected_smtp = floor * 2 * 2.5 / (2 + norm)
    assert scores[1] == pytest.approx(expected_password + expected_smtp)
    assert scores[2] == 0.0
    assert PlainBM25(corpus).rank(["tls"])[0] == 2
    assert term_scores([]) == {}


@pytest.mark.parametrize(
    "question",
    [
        "\x00\x01 ÿÿÿ #### ????",
        "asdkjh qwpoeiu zxcmnb",
        "=?UTF-8?B?5L2g5aW9?= =?UTF-8?B?5LiW55WM?=",
    ],
)
def test_unreadable_text_is_never_confident(real: KnowledgeBase, question: str) -> None:
    """Bytes, keyboard mash or undecoded headers: nothing to go on, so no confident answer."""
    assert search(real, question).confidence < CONFIDENCE_FLOOR
