"""Text normalisation shared by the search index and the queries.

Both sides go through the same pipeline (lower-case, synonym phrases folded to
one canonical token, stop words dropped, a light suffix stemmer), so
"Outgoing server keeps rejecting my pw" and an article about "SMTP password"
meet on the same tokens. The synonym table is small on purpose: it holds
the everyday names people use for the things our articles talk about.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from knowledge.phrases import at_boundary, phrase_table

# Clouds and web hosts known to block or intercept outbound SMTP (the hosting article's
# subject), and the tell-tale "works locally, not on the server": a regex source, applied
# case-insensitively. The search's steering reads questions with it; replies.yaml's
# evidence patterns name it as ``{hosted}``.
_HOSTS: Final = (
    r"aws|amazon ec2|ec2|lightsail|google cloud|gcp|compute engine|azure|digital ?ocean"
    r"|droplet|linode|akamai|hetzner|vultr|ibm cloud|oracle cloud|scaleway|contabo"
    r"|heroku|render\.com|railway|fly\.io|vercel|netlify|cpanel|whm|godaddy|bluehost"
    r"|hostgator|namecheap|siteground|dreamhost|hostinger|wp ?engine|kinsta|shared hosting"
    r"|web ?host(?:ing)?|hosting (?:company|provider)|vps"
)
HOSTED_PATTERN: Final = (
    rf"\b(?:{_HOSTS})\b(?!\W{{0,2}}(?:ses|simple email))"
    r"|\bworks? (?:fine |perfectly |ok |well )?(?:on|from) (?:my|the) (?:local|pc|laptop|computer|"
    r"machine|mac|dev)|\b(?:works|working|fine) locally\b|\blocal(?:host)? (?:works|is fine)"
)

# Phrase (regex on normalised text) -> canonical token(s). Order matters: longer first.
SYNONYMS: Final[tuple[tuple[str, str], ...]] = (
    (r"outgoing (?:mail )?server|outbound server|outgoing mail|send(?:ing)? server", "smtp"),
    (
        r"can ?not send|can t send|cant send|unable to send|won t send|wont send|not sending"
        r"|doesn t send|does not send|fails? to send|couldn t send|could not send",
        "send fail",
    ),
    (
        r"can ?not log ?in|can t log ?in|cant log ?in|unable to log ?in|won t log ?in"
        r"|can t sign ?in|cant sign ?in|cannot sign ?in|unable to sign ?in",
        "login fail",
    ),
    # The e-mail an app sends ("password reset email", "forgot password link") is about the
    # app's mail, not about the person's own password.
    (
        r"(?:password reset|reset password|forgot(?:ten)? password|password recovery"
        r"|invit(?:e|ation)|verification|confirmation|welcome|notification)"
        r" (?:e ?mails?|mails?|links?|messages?)",
        "email",
    ),
    (
        r"two[ -]?factor|2[ -]?factor|2fa|two[ -]?step|2[ -]?step|mfa|multi[ -]?factor"
        r"|second factor|two[ -]?fa|verification code|2sv|2[ -]?step verification",
        "twofactor",
    ),
    (
        r"app[ -]?specific password|application[ -]?specific password|app[ -]?password"
        r"|application password",
        "apppassword password",  # keep "password": it is one
    ),
    (r"office ?365|o365|microsoft ?365|m365|exchange online|ms ?365", "microsoft365"),
    (r"outlook\.com|hotmail|live\.com|msn\.com", "outlookcom"),
    (r"g ?mail|google ?mail|googlemail", "gmail"),
    (r"g ?suite|google workspace|workspace", "googleworkspace"),
    (r"i ?cloud|me\.com|mac\.com", "icloud"),
    (r"iphone|ipad|ios", "ios"),
    (r"mac ?os|macbook|os ?x", "mac"),
    (r"apple mail|mail\.app|mail app on (?:my )?mac", "applemail"),
    (r"basic auth(?:entication)?|legacy auth(?:entication)?", "basicauth"),
    (r"modern auth(?:entication)?|oauth ?2?|xoauth2?", "oauth"),
    (r"less secure apps?", "lesssecure"),
    (r"anti[ -]?virus|av software", "antivirus"),
    (r"fire ?wall", "firewall"),
    (r"e[ -]?mail", "email"),
    (r"authori[sz]ation codes?|auth codes?", "authcode"),
    (
        r"totp|authenticator(?: app)?|one[ -]?time (?:code|password)|otp|passkeys?|security keys?"
        r"|(?:sign[ -]?in|login) codes?",
        "twofactor",
    ),
    (r"out ?box|stuck in (?:the )?outbox|stuck|queued", "outbox"),
    # Everyday words of other languages people ask in (German, Spanish, Portuguese, French,
    # Italian, Dutch, Turkish) folded to the English tokens the articles use. The search still
    # says it is unsure of such a question (knowledge.steering.foreign_text); this only gives
    # it a fair ranking.
    (
        r"app[ -]?passwort|contrase[nñ]a de aplicaci[oó]n|senha de app"
        r"|mot de passe d application",
        "apppassword password",
    ),
    (
        r"passwort|kennwort|contrase[nñ]a|senha|mot de passe|password|wachtwoord|[sş]ifre",
        "password",
    ),
    (r"benutzername|usuario|usu[aá]rio|utilisateur|nome utente|gebruikersnaam", "username"),
    (r"zugangsdaten|anmeldedaten|credenciales|credenciais|identifiants|credenziali", "credential"),
    (
        r"senden|versenden|verschicken|enviar|envio|env[ií]o|env[ií]an?|envoyer|envoi|inviare|invio"
        r"|verzenden|g[oö]nder(?:mek|emiyorum|ilmiyor)?",
        "send",
    ),
    (r"anmeldung|anmelden|einloggen|iniciar sesi[oó]n|connexion|accesso|giri[sş]", "login"),
    (r"fehler|fehlermeldung|erreur|errore|hata", "error"),
    (r"zertifikat|certificado|certificat|certificato|sertifika", "certificate"),
    (r"verschl[uü]sselung|cifrado|criptografia|chiffrement|crittografia", "encryption"),
    (r"zeit[uü]berschreitung|tiempo de espera|d[ée]lai d attente", "timeout"),
    (r"postausgangsserver|ausgangsserver|servidor de salida|serveur sortant", "smtp"),
    (r"servidor|serveur|server|sunucu", "server"),
    (r"konto|cuenta|conta|compte|hesap", "account"),
    (
        r"zwei[ -]?faktor|zweistufig(?:e|en|er|es|em)?|doble factor|dois fatores"
        r"|double authentification"
        r"|verificaci[oó]n en (?:dos|2) pasos|verifica[cç][aã]o em (?:duas|2) etapas"
        r"|validation en (?:deux|2) [ée]tapes|verifica in (?:due|2) passaggi",
        "twofactor",
    ),
    (
        r"authentifizierung|autenticaci[oó]n|autentica[cç][aã]o|authentification"
        r"|autenticazione|kimlik do[gğ]rulama",
        "authentication",
    ),
    (r"verbindung|conexi[oó]n|conex[aã]o|connessione|ba[gğ]lant[\u0131i]", "connect"),
    (r"gesperrt|bloqueado|bloqueada|bloqu[ée]e?|bloccato|engellendi", "block"),
    (r"abgelehnt|rechazad[oa]|rejeitad[oa]|refus[ée]e?|rifiutat[oa]|reddedildi", "reject"),
    (r"empfangen|recibir|receber|recevoir|ricevere", "receive"),
    (r"drucker|impresora|impressora|imprimante|stampante|yaz[\u0131i]c[\u0131i]", "printer"),
    (r"postfach|buz[oó]n|caixa de correio|bo[iî]te (?:mail|aux lettres)", "mailbox"),
    (r"correo(?: electr[oó]nico)?|courriel|posta elettronica|e[ -]?posta", "email"),
    (r"puerto|porta|porte|anschluss", "port"),
    (
        r"antwortet nicht|reagiert nicht|nicht (?:antwortet|reagiert)|no responde"
        r"|n[aã]o responde|ne r[ée]pond pas|non risponde|yan[\u0131i]t vermiyor",
        "timeout",
    ),
    (
        r"funktioniert nicht|geht nicht|klappt nicht|nicht (?:funktioniert|geht|klappt)"
        r"|no funciona|n[aã]o funciona|ne (?:fonctionne|marche) pas|non funziona|werkt niet"
        r"|[cç]al[\u0131i][sş]m[\u0131i]yor",
        "fail",
    ),
    (r"time[sd]?[ -]?out|timing out|hangs?|hanging|not responding|no response", "timeout"),
    (
        r"not working|doesn t work|does not work|stopped working|isn t working"
        r"|no longer works",
        "fail",
    ),
    (r"pw|pwd|passwd|pass word|passcode", "password"),
    (r"user ?name|login name|user id|userid", "username"),
    (r"locked out|lock ?out|locked", "lockout"),
    (r"too many (?:login |sign ?in |failed )?(?:attempts|tries|logins)", "toomany"),
    (r"certificates?|certs?", "certificate"),
    (r"creds|credentials?", "credential"),
    (r"log(?:ging)?[ -]?in|sign(?:ing)?[ -]?in|signin|log[ -]?on", "login"),
    (r"auth|authn", "authentication"),
    (r"ssl|tls", "tls"),
    (r"start ?tls", "starttls"),
    (r"wi[ -]?fi|hotspot", "wifi"),
    (r"vpn", "vpn"),
    (r"scan to (?:e ?mail|email)|scanner|copier|mfp|multifunction", "printer"),
    (r"keeps? asking|keeps? prompting|asks? again|prompts? again|asking again", "prompt"),
    (r"repeated(?:ly)?|again and again|over and over|every time|constantly", "repeat"),
    (r"settings?|config(?:uration)?|set ?up", "setting"),
    (r"contact|call|reach|talk to|phone", "contact"),
    (r"isp|internet provider|broadband provider", "isp"),
)
# Chinese terms people use for what the articles talk about, folded to English tokens before
# tokenising (Chinese has no spaces, so these are plain substrings). A term comes before
# any shorter one inside it ("アプリパスワード" before "パスワード").
CJK_TERMS: Final[tuple[tuple[str, str], ...]] = (
    ("三方客户端安全密码", " authcode "),
    ("客户端授权密码", " authcode "),
    ("客户端专用密码", " authcode "),
    ("授权码", " authcode "),
    ("授權碼", " authcode "),
    ("应用专用密码", " apppassword password "),
    ("两步验证", " twofactor "),
    ("二次验证", " twofactor "),
    ("企业邮箱", " exmail "),
    ("垃圾邮件", " spam "),
    ("邮箱", " email "),
    ("邮件", " email "),
    ("密码", " password "),
    ("发不出", " cannot send "),
    ("发不了", " cannot send "),
    ("收不到", " not received "),
    ("发件人", " sender "),
    ("收件人", " recipient "),
    ("发送", " send "),
    ("发信", " send "),
    ("收信", " receive "),
    ("接收", " receive "),
    ("失败", " fail "),
    ("报错", " error "),
    ("错误", " error "),
    ("开启", " enable "),
    ("服务器", " server "),
    ("服务", " service "),
    ("端口", " port "),
    ("认证", " authentication "),
    ("验证", " authentication "),
    ("登录", " login "),
    ("用户名", " username "),
    ("账号", " account "),
    ("账户", " account "),
    ("证书", " certificate "),
    ("加密", " encryption "),
    ("超时", " timeout "),
    ("连接", " connect "),
    ("连不上", " cannot connect "),
    ("配置", " setting "),
    ("设置", " setting "),
    ("防火墙", " firewall "),
    ("杀毒", " antivirus "),
    ("拒绝", " rejected "),
    ("限制", " limit "),
    ("频繁", " too many "),
    ("锁定", " locked "),
    ("客户端", " client "),
    ("特殊字符", " special characters "),
    # Traditional characters (Taiwan, Hong Kong) for the same words
    ("郵件", " email "),
    ("郵箱", " email "),
    ("密碼", " password "),
    ("發送", " send "),
    ("伺服器", " server "),
    ("憑證", " certificate "),
    ("連線", " connect "),
    ("帳號", " account "),
    ("登入", " login "),
    ("网易", " netease "),
    ("腾讯", " tencent "),
    # Japanese (kana and the kanji it shares with Chinese above) and Korean.
    ("アプリパスワード", " apppassword password "),
    ("二段階認証", " twofactor "),
    ("2段階認証", " twofactor "),
    ("パスワード", " password "),
    ("証明書", " certificate "),
    ("認証", " authentication "),
    ("送信", " send "),
    ("受信", " receive "),
    ("無効", " disabled "),
    ("有効", " enable "),
    ("設定", " setting "),
    ("接続", " connect "),
    ("タイムアウト", " timeout "),
    ("エラー", " error "),
    ("サーバー", " server "),
    ("ポート", " port "),
    ("複合機", " printer "),
    ("テナント", " tenant "),
    ("管理者", " admin "),
    ("メールボックス", " mailbox "),
    ("メール", " email "),
    ("앱 비밀번호", " apppassword password "),
    ("2단계 인증", " twofactor "),
    ("비밀번호", " password "),
    ("인증서", " certificate "),
    ("인증", " authentication "),
    ("전송", " send "),
    ("발송", " send "),
    ("보내기", " send "),
    ("오류", " error "),
    ("에러", " error "),
    ("서버", " server "),
    ("포트", " port "),
    ("설정", " setting "),
    ("연결", " connect "),
    ("시간 초과", " timeout "),
    ("복합기", " printer "),
    ("프린터", " printer "),
    ("메일", " email "),
)

_STOP_WORDS_TEXT: Final = """
    a an the and or but if then so to of in on at by for with from into onto about as is are
    was were be been being am do does did doing have has had having i me my mine we our us you
    your yours he she it its they them their this that these those there here what which who
    whom whose when where why how can could would should will shall may might must just also
    too very really please hi hello hey thanks thank help need want get got getting still
    any some all no yes s t d ll re ve m im ive dont doesnt didnt isnt arent wasnt whats
    hows one someone something anything way like now again keep keeps kept try tried trying
    whether either neither other another back"""
# Function words of the other languages people write in, and single letters (what is left
# of an accented word, "não" -> "n o", or of "c'est"): without them a question in German or
# French matched whichever article has an example question in that language, on "die",
# "und", "les" alone.
_FOREIGN_STOP_WORDS_TEXT: Final = """
    der die das dem den des ein eine einen einem einer und oder aber ist sind nicht kein mit
    auf bei von zu zum zur im ich mein meine meinen mir mich wir sie es auch noch wie wenn
    dass beim nach seit schon immer
    le la les un une et est sont pas avec pour sur dans du au aux ce cette qui que qu je mon
    ma mes on ne depuis
    el los las que por para una con como pero mi mis esta hay del al se lo y
    uma meu minha voce tambem do da dos das na
    il che non per sono della di
    het een niet ik mijn maar en van
    b c f g h j l n o p q r u v w y z"""
ENGLISH_STOP_WORDS: Final = frozenset(_STOP_WORDS_TEXT.split())
# not "com", "em", "e", "k", "x": they are words of names (outlook com, eM Client, K-9, ...)
FOREIGN_STOP_WORDS: Final = frozenset(_FOREIGN_STOP_WORDS_TEXT.split()) - ENGLISH_STOP_WORDS
STOP_WORDS: Final = ENGLISH_STOP_WORDS | FOREIGN_STOP_WORDS

_TOKEN: Final = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
_APOSTROPHE: Final = re.compile(r"['\u2019`]")
_WORD: Final = re.compile(r"\w+")
# first word -> (phrase, canonical) in the order the regex tries them; None: use the regex
_PHRASES: Final = phrase_table(SYNONYMS)


def normalise(text: str) -> str:
    """Lower-case, compatibility-folded text with apostrophes removed ("can't" -> "can t").

    Known Chinese terms become their English tokens here (see ``CJK_TERMS``).
    """
    text = unicodedata.normalize("NFKC", text).lower()
    if any(ord(char) >= 0x2E80 for char in text):
        for term, english in CJK_TERMS:
            text = text.replace(term, english)
    return _APOSTROPHE.sub(" ", text)


def synonym_pattern() -> re.Pattern[str]:
    """``SYNONYMS`` as one regex: the definition ``fold_synonyms`` follows (first phrase
    that matches at the leftmost position wins, whole words only)."""
    return re.compile(
        "|".join(f"(?P<s{i}>\\b(?:{phrase})\\b)" for i, (phrase, _) in enumerate(SYNONYMS))
    )


def _fold_with_regex(text: str) -> str:
    canonical = [canon for _, canon in SYNONYMS]
    return _regex().sub(lambda m: f" {canonical[int((m.lastgroup or 's0')[1:])]} ", text)


@functools.cache
def _regex() -> re.Pattern[str]:
    return synonym_pattern()


def fold_synonyms(text: str) -> str:
    """Replace every known phrase in normalised ``text`` by its canonical token(s).

    The same result as ``synonym_pattern().sub`` (tests compare the two), found by a
    dictionary look-up per word instead of trying a hundred alternatives at every
    character: a text is read in microseconds, the index of a thousand texts in
    milliseconds. A phrase outside the regex subset ``knowledge.phrases`` expands
    falls back to the regex.
    """
    table = _PHRASES
    if table is None:
        return _fold_with_regex(text)
    pieces: list[str] = []
    done = 0
    for word in _WORD.finditer(text):
        start = word.start()
        candidates = table.get(word.group()) if start >= done else None
        if candidates is None:
            continue
        for phrase, canonical in candidates:
            end = start + len(phrase)
            if text.startswith(phrase, start) and at_boundary(text, end):
                pieces += (text[done:start], " ", canonical, " ")
                done = end
                break
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def stem(word: str) -> str:
    """A light suffix stemmer: enough to meet plurals and verb forms half-way.

    "enabled", "enabling" and "enable" all become "enabl"; "authentication" and
    "authenticated" become "authenticat". Not linguistics, just consistent.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] != "l":
                word = word[:-1]  # "stopped" -> "stop", "setting" -> "set"
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


_SUFFIXES: Final = (
    ("ifications", "ify"),
    ("ification", "ify"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ions", ""),
    ("ion", ""),
    ("ied", "y"),
    ("ings", ""),
    ("ing", ""),
    ("edly", ""),
    ("ed", ""),
    ("ies", "y"),
    ("sses", "ss"),
    ("s", ""),
)


def raw_tokens(text: str) -> list[str]:
    """Normalised, synonym-folded tokens before stop-word removal and stemming."""
    return _TOKEN.findall(fold_synonyms(normalise(text)))


def tokens(text: str) -> list[str]:
    """The index/query tokens of ``text``: folded, without stop words, stemmed."""
    return [stem(word) for word in raw_tokens(text) if word not in STOP_WORDS]
