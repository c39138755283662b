"""Every sentence the Slack bot says, in one place so it reads as one voice.

Templates use ``str.format`` fields; callers escape any server- or user-supplied
text for mrkdwn before it is filled in (see ``handlers.blocks.escape``).
"""

from __future__ import annotations

from typing import Final

from bot.oauth.errors import Problem
from bot.probe.model import Outcome, Stage, Status

# -- /smtpcheck -------------------------------------------------------------------
USAGE: Final = (
    "*How to use /smtpcheck*\n"
    "• `/smtpcheck` opens a form to test your outgoing mail (SMTP) sign-in.\n"
    "• `/smtpcheck you@example.com` fills in the server settings for your address first.\n"
    "• `/smtpcheck smtp.example.com:587` fills in that server.\n"
    "• `/smtpcheck why does Outlook keep asking for my password` answers a question.\n"
    "• `/smtpcheck faq` shows the common questions.\n"
    "• `/smtpcheck help` shows this message.\n"
    "Results of a live check come to our direct messages, where only you can see them."
)
NO_ANSWER: Final = (
    "I could not find an answer to that. Try other words, paste the exact error message, "
    "or run `/smtpcheck` to test your settings live."
)
UNSURE_ANSWER: Final = "I am not sure this is what you mean; here is my best guess."
ANSWER_MORE: Final = "Also see:"
ANSWER_STEPS_TITLE: Final = "*What to do*"
SHOW_ALL_STEPS: Final = "Show all {total} steps"
ARTICLE_TITLE: Final = "Article"  # <= 24 characters
ARTICLE_CLOSE: Final = "Close"

# -- the modal --------------------------------------------------------------------
MODAL_TITLE: Final = "Check mail sign-in"  # <= 24 characters
MODAL_SUBMIT: Final = "Run check"
MODAL_CLOSE: Final = "Cancel"
MODAL_INTRO: Final = (
    "I will connect to your outgoing mail server and try to sign in *once*, the way your "
    "mail program does, then tell you what worked and what did not.\n"
    ":lock: Your password is used for this one check and *never stored or shown to anyone*. "
    "If your provider offers *app passwords*, use one here and delete it afterwards."
)
MODAL_FIELDS: Final = {
    "email": ("Your email address", "you@example.com"),
    "host": ("Outgoing mail server (SMTP)", "smtp.example.com"),
    "port": ("Port", "587"),
    "security": ("Encryption", ""),
    "username": ("Username", "usually your full email address"),
    "password": ("Password or app password", "used once, never stored"),
}
MODAL_HINTS: Final = {
    "email": "Optional. Used to fill in the username if you leave it empty.",
    "port": "587 (STARTTLS) is right for most providers; 465 uses TLS from the start.",
    "username": "Leave username and password empty to check only the connection.",
    "password": ("Slack does not hide what you type here. Used once for this check, never stored."),
}
SECURITY_CHOICES: Final = (
    ("auto", "Automatic (465: TLS, others: STARTTLS)"),
    ("starttls", "STARTTLS"),
    ("tls", "TLS from the start (SSL)"),
    ("none", "None (sends the password unencrypted)"),
)
MODAL_FOOTER: Final = "The result comes to our direct messages, where only you can see it."
PREFILL_PARTIAL: Final = (
    "I could not look up every setting for {domain} in time; check the server and port."
)
PREFILL_FOUND: Final = "Settings for {domain} filled in from {source}; check they match yours."
PREFILL_CLIPPED: Final = (
    "What you typed was longer than these fields allow, so I shortened it: {fields}. "
    "Check them before running the check."
)
HOST_NEEDED_WITH_EMAIL: Final = (
    "Give the server name. Tip: `/smtpcheck {email}` looks it up for you."
)

# -- refusals (the modal turns into this notice) ----------------------------------
REFUSED_TITLE: Final = "Check not started"
ADMISSION_SLOW: Final = (
    "Starting your check is taking longer than usual. The result (or why it could not run) "
    "will arrive in your messages with me in a moment; there is no need to submit again."
)
REFUSED_RATE: Final = "I did not run this check. {reason}"
REFUSED_STORE: Final = (
    "I cannot run live checks right now because my state store is unreachable, and I do "
    "not run checks without their safety limits. Questions still work: try "
    "`/smtpcheck <your question>`. Please try the check again in a few minutes."
)
REFUSED_DRAINING: Final = (
    "I am restarting and not starting new checks right now. Please try again in a minute."
)

# -- the check in the DM thread ---------------------------------------------------
CHECKING: Final = "Checking {target} ..."
CHECKING_DONE: Final = "Check of {target}: {verdict}"
STAGE_NAMES: Final = {
    Stage.RESOLVE: "Find the server",
    Stage.CONNECT: "Connect",
    Stage.BANNER: "Greeting",
    Stage.EHLO: "Capabilities",
    Stage.TLS: "Encryption",
    Stage.AUTH: "Sign in",
    Stage.QUIT: "Close",
}
STATUS_MARKS: Final = {
    Status.OK: ":white_check_mark:",
    Status.WARN: ":warning:",
    Status.FAIL: ":x:",
    Status.SKIPPED: ":heavy_minus_sign:",
}
VERDICTS: Final = {
    Outcome.AUTHENTICATED: ":white_check_mark: Signed in successfully",
    Outcome.REACHABLE: ":white_check_mark: Server reachable and ready for sign-in",
    Outcome.AUTH_REJECTED: ":x: The server refused the sign-in",
    Outcome.INVALID_INPUT: ":x: The settings were not valid",
    Outcome.POLICY_REFUSED: ":no_entry: I am not allowed to reach that server",
    Outcome.DNS_ERROR: ":x: The server name could not be found",
    Outcome.CONNECT_ERROR: ":x: Could not connect to the server",
    Outcome.TLS_ERROR: ":x: Encryption (TLS) problem",
    Outcome.PROTOCOL_ERROR: ":x: The server did not behave as expected",
    Outcome.TIMEOUT: ":hourglass: The server took too long to answer",
    Outcome.INTERRUPTED: ":warning: The check was interrupted before it finished",
    Outcome.CRASHED: ":warning: The check failed on my side",
    Outcome.WITHHELD: ":no_entry: I did not try to sign in",
}
STEPS_TITLE: Final = "*Step by step*"
STEPS_TEXT_OK: Final = "Step by step: all {count} stages of the check"
STEPS_TEXT_FAILED: Final = "Step by step: {count} stages, stopped at {stage}"
SERVER_SAID: Final = "server said: {reply}"
DIAGNOSIS_TITLE: Final = "*What this means*"
LIKELY_CAUSE: Final = "*Most likely cause:* {cause}"
NEXT_STEPS_TITLE: Final = "*Next steps*"
READ_MORE_MENU: Final = "Read more"
BUTTON_FIX: Final = "Walk me through the fix"
BUTTON_AGAIN: Final = "Run again"
BUTTON_HUMAN: Final = "Talk to a human"
POINTER: Final = "Your check of {target} is running in our direct messages: {link}"
CHECK_CRASHED: Final = (
    "Something went wrong on my side while running this check (reference {ref}). "
    "Nothing more will be sent to your server; you can run the check again."
)
INTERRUPTED: Final = (
    "Your check of {target} was interrupted because I restarted, before I tried to sign "
    "in. Run `/smtpcheck` when you want to check again."
)
INTERRUPTED_AFTER_AUTH: Final = (
    "Your check of {target} was interrupted because I restarted, after I had sent the "
    "sign-in to the server, so I do not know whether it worked; it may have counted as a "
    "failed sign-in attempt for your account. I will not try again on my own; run "
    "`/smtpcheck` when you want to check again."
)
WITHHELD: Final = "I did not try to sign in to {target}. {reason}"
VERDICT_PLAIN: Final = "Your check of {target} finished. {verdict}: {summary}"

# -- buttons ----------------------------------------------------------------------
NOT_YOUR_CHECK: Final = "This check belongs to <@{owner}>; only they can use its buttons."
CHECK_GONE: Final = "I no longer have the details of this check; run `/smtpcheck` again."
WALKTHROUGH_TITLE: Final = "*{title}*"
NOTHING_TO_FIX: Final = "The check passed, so there is nothing to fix. :tada:"
HELPDESK_MISSING: Final = (
    "No helpdesk channel is configured for me (SMTPCHECK_HELPDESK_CHANNEL), so I could not "
    "pass this on. Please contact your helpdesk directly and share this thread's result."
)
HELPDESK_SENT: Final = "I have passed a summary of this check to the helpdesk; they will follow up."
HELPDESK_ALREADY: Final = "The helpdesk already has this check."
HELPDESK_SUMMARY: Final = (
    ":sos: <@{user}> needs help sending mail.\n"
    "*Server:* {target} ({security})\n*Username:* {username}\n*Result:* {verdict}\n"
    "*Finding:* {finding}\n*Diagnosis:* {summary}\n(No password is included.)"
)

# -- message shortcut and App Home -----------------------------------------------
EXPLAIN_NOTHING: Final = (
    "I do not recognise an SMTP error in that message. Paste the full error text into "
    "`/smtpcheck`, or run `/smtpcheck` to test the settings live."
)
# The paste has a reply code, but neither the code nor its wording is one we know:
# asking for "the code" again would ignore what the person already gave us.
EXPLAIN_NOTHING_WITH_CODE: Final = (
    "I see an SMTP reply code in that message, but not one whose wording I know, so I will "
    "not guess. Ask me in your own words what you were doing (app, provider, port), or run "
    "`/smtpcheck` to test the settings live."
)
EXPLAIN_CUT: Final = (
    "_That paste was long, so I read only its beginning and its end (its first {head:,} and "
    "last {tail:,} characters, at most {replies} replies). If the error is in the middle, "
    "paste that part on its own._"
)
EXPLAIN_MATCH: Final = "*{code}* {excerpt}\n{cause}"
EXPLAIN_READ: Final = "Read: {titles}"
REDACTED_NOTE: Final = (
    ":lock: I hid what looked like a password or sign-in code in that message before "
    "reading it. If others could see it, change that password."
)
HOME_START: Final = "Start a check"
HOME_INTRO: Final = (
    "*smtpcheck* helps when sending mail fails with _authentication failed_.\n"
    "Ask me a question here in Messages, paste an error, or test your settings live."
)

# -- errors -----------------------------------------------------------------------
UNEXPECTED: Final = (
    "Sorry, something went wrong on my side (reference {ref}). Please try again; if it keeps "
    "happening, tell your helpdesk and mention the reference."
)

SLACK_UNAVAILABLE: Final = (
    "Sorry, Slack did not answer me in time (or asked me to slow down), so that did not work "
    "(reference {ref}). Please try again in a minute."
)

# -- conversation in a help thread (rendered from bot.conversation turns) ----------
TURN_STEP: Final = "*Step {number} of {total}:* {text}"
TURN_VARIANT: Final = "Steps for {name}."
TURN_ERROR: Final = "*What the error means* ({code}): {cause}"
TURN_ERROR_NO_ARTICLE: Final = (
    "I do not have an article for this error yet. A live check or the helpdesk can help."
)
TURN_NEXT_QUESTION: Final = "People often ask next:"
TURN_LOW_CONFIDENCE: Final = (
    "I am not sure I understood. Is it one of these? If not, try other words, paste the "
    "exact error, or talk to a person."
)
TURN_NOTHING_FOUND: Final = (
    "I do not have an answer for that. Here are the questions people ask most; or paste "
    "the exact error message, or talk to a person."
)
TURN_RELATED: Final = "You have tried every step of *{title}*. One of these may be the cause:"
TURN_CANDIDATES: Final = "Maybe one of these?"
TURN_RESOLVED: Final = "Glad that fixed it! :tada: Ask me again any time."
TURN_RESOLVED_AGAIN: Final = "This one is already marked as fixed."
TURN_HUMAN: Final = (
    "I have run out of suggestions here. A live check may still show what is wrong, or "
    "a person from the helpdesk can take over."
)
TURN_NOTED: Final = (
    "Noted: you use *{name}*. I will show steps for it. What is going wrong? These are "
    "good places to start:"
)
TURN_NOTED_PLAIN: Final = "Noted. What is going wrong? These are good places to start:"
GREETING: Final = (
    "Hi! Ask me about sending mail (for example _why does Outlook keep asking for my "
    "password_), paste an error message, or pick a common question:"
)
COMMON_QUESTIONS: Final = "*Common questions*"
FAQ_ASKED: Final = "You asked: _{question}_"
OFFER_LABELS: Final = {
    "fixed": "That fixed it",
    "still_failing": "Still failing",
    "live_check": "Run a live check",
    "human": "Talk to a human",
    "not_what_i_meant": "Not what I meant",
}
NOT_YOUR_THREAD: Final = (
    "This conversation is <@{asker}>'s, so its buttons are theirs. Want help of your own? "
    "Send me your question in our direct messages, or type `/smtpcheck`."
)
BUTTON_ELSEWHERE: Final = "That button belongs to another conversation, so I did nothing."
MORE_OPTIONS: Final = "More options"
HELPFUL: Final = "Helpful"
NOT_HELPFUL: Final = "Not helpful"
FEEDBACK_THANKS: Final = "Thanks, that helps me get better."
FEEDBACK_THANKS_DOWN: Final = (
    "Thanks for telling me. The helpdesk will see this question so the answer can improve; "
    "you can also try other words or talk to a person."
)
REVIEW_TITLE: Final = "*Questions to review* (newest first, no names)"
REVIEW_NONE: Final = "    none: every recent question had a confident, helpful answer"
WEBHOOK_FAILED_TITLE: Final = (
    "*Escalations the ticketing webhook did not accept* (check SMTPCHECK_ESCALATION_WEBHOOK)"
)
WEBHOOK_FAILED_LINE: Final = "    • {when} · {reason}"
REVIEW_PAGE: Final = "    page {page} of {pages} ({total} questions)"
REVIEW_OLDER: Final = "Older questions"
REVIEW_NEWER: Final = "Newer questions"
REVIEW_LINE: Final = "    • {when} · {reason} · {question}"
REVIEW_REASONS: Final = {"not_confident": "no sure answer", "not_helpful": "voted not helpful"}
FEEDBACK_LINE: Final = (
    "• Answers rated helpful: *{helpful}* · not helpful: *{not_helpful}* (7 days)\n"
    "• Escalations sent to the helpdesk (threads and checks, 7 days): *{escalations}*"
)
TURN_RETIRED: Final = "Earlier answer: the buttons are on the newest message below."
EXPLAIN_MORE: Final = "Explain more"
TRIAGE_TRY: Final = "Try first: {step}"
TRIAGE_HEAD: Final = "{quote}\n*What the error means:* {cause}"
TRIAGE_TEXT: Final = "SMTP error {code}: {cause}"
MORE_QUESTIONS: Final = "More questions"
FAQ_PAGE_OF: Final = "(page {page} of {pages})"
FAQ_NEXT: Final = "Next questions"
FAQ_FIRST: Final = "Back to the first questions"
THREAD_GONE: Final = "I no longer have this conversation; please ask your question again."
HELPDESK_THREAD_SUMMARY: Final = (
    ":sos: <@{user}> needs help sending mail.\n"
    "*Topic:* {topic}\n*Set-up:* {setup}\n*Error seen:* {error}\n"
    "*Steps tried:* {steps}\n*Conversation:* {link}"
)

# -- App Home ------------------------------------------------------------------------
HOME_QUESTIONS: Final = "*Popular questions* (the answer comes to our direct messages)"
HOME_CHECKS: Final = "*Your recent checks*"
HOME_NO_CHECKS: Final = "No checks yet. Press *Start a check* to test your settings."
HOME_CHECK_LINE: Final = "{when} · `{target}` · {verdict}"
HOME_CHECK_RUNNING: Final = ":hourglass_flowing_sand: running"
HOME_CHECK_INTERRUPTED: Final = ":warning: interrupted"
HOME_CHECK_FAILED: Final = ":warning: did not complete (an error on my side)"
HOME_DASHBOARD: Final = "Helpdesk dashboard"
HOME_DASHBOARD_NOTE: Final = "Visible to smtpcheck admins only."
STATS_DENIED: Final = (
    "Sorry, the helpdesk numbers are for smtpcheck admins only. Ask your helpdesk lead "
    "if you need them."
)
STATS_UNAVAILABLE: Final = (
    "I cannot read the helpdesk numbers right now (my state store is unreachable or slow). "
    "Please try again in a few minutes."
)

# -- OAuth sign-in ("Sign in with Microsoft / Google") ------------------------------
SIGN_IN_LABEL: Final = "How to sign in"
SIGN_IN_CHOICES: Final = {
    "password": "With the password typed below",
    "microsoft": "Sign in with Microsoft (no password here)",
    "google": "Sign in with Google (no password here)",
}
SIGN_IN_HINT: Final = (
    "With Microsoft or Google you sign in on their own page; I get a token for this one "
    "check and throw it away afterwards."
)
SIGN_IN_NEEDS_USER: Final = "is needed to sign in: give your email address or username"
SIGN_IN_TYPED_NOT_USED: Final = "is not used when you sign in with Microsoft or Google: clear it"
SIGN_IN_UNAVAILABLE: Final = "sign-in is not set up on this bot"
SIGN_IN_DEVICE: Final = (
    ":key: *Sign in with Microsoft*: open {link} and enter the code *{code}* "
    "(valid for {minutes} minutes). I run the check as soon as you have signed in."
)
SIGN_IN_LINK: Final = (
    ":key: *Sign in with Google*: <{url}|open Google's sign-in page> (valid for "
    "{minutes} minutes). I run the check as soon as you come back from it."
)
SIGN_IN_DONE: Final = "Signed in. Checking with the token now; it is discarded afterwards."
SIGN_IN_FAILED: Final = "*Sign-in failed: no check was run.* {reason}"
SIGN_IN_READ_MORE: Final = "Read more: {titles}"
SIGN_IN_REASONS: Final = {
    Problem.DENIED: "The sign-in was declined, so I did not get permission to send mail as you.",
    Problem.EXPIRED: (
        "The sign-in was not completed in time. Run the check again to get a new code."
    ),
    Problem.CONSENT_REQUIRED: (
        "You have not yet allowed this app to send mail for you (Microsoft AADSTS65001)."
    ),
    Problem.ADMIN_CONSENT: (
        "Only an administrator of your organisation can allow this app to send mail "
        "(SMTP.Send). Ask IT to grant admin consent."
    ),
    Problem.CONDITIONAL_ACCESS: (
        "Your organisation's sign-in policy (Conditional Access or required MFA) blocked "
        "this sign-in."
    ),
    Problem.WRONG_TENANT: (
        "This account does not belong to the organisation (tenant) the bot signs in to, or "
        "the app is not registered there."
    ),
    Problem.CLIENT_MISCONFIGURED: (
        "The bot's app registration is not set up correctly (for Microsoft: 'Allow public "
        "client flows' and the SMTP.Send permission). Tell whoever runs this bot."
    ),
    Problem.INVALID_GRANT: "The identity provider refused the sign-in code. Run the check again.",
    Problem.STATE_MISMATCH: "The sign-in answer did not belong to this check.",
    Problem.UNREACHABLE: "The sign-in service could not be reached. Try again in a few minutes.",
    Problem.BAD_RESPONSE: "The sign-in service answered something I could not use.",
}
OAUTH_PAGE_DONE: Final = "Signed in. You can close this window and go back to Slack."
OAUTH_PAGE_FAILED: Final = "The sign-in did not complete. Go back to Slack to see why."
OAUTH_PAGE_UNKNOWN: Final = (
    "This sign-in link is unknown, expired or already used. Run the check again in Slack."
)
OAUTH_PAGE_ELSEWHERE: Final = (
    "This sign-in reached another instance of the bot than the one that started it. "
    "Run the check again in Slack."
)
OAUTH_PAGE_UNAVAILABLE: Final = "The bot cannot finish sign-ins right now. Try again shortly."
# -- the assistant split view ----------------------------------------------------------
ASSISTANT_GREETING: Final = (
    'Hi! I help when sending mail fails with "authentication failed". Ask me a question, '
    "paste the exact error, or type your address to check your settings."
)
ASSISTANT_PROMPTS_TITLE: Final = "Try one of these:"
ASSISTANT_PROMPTS: Final = (
    (
        "Why does Outlook keep asking for my password?",
        "Why does Outlook keep asking for my password?",
    ),
    ("Check my mail server", "How do I check my outgoing mail server settings?"),
    ("Explain an error", 'What does "535 5.7.8 Username and Password not accepted" mean?'),
)
ASSISTANT_LOOKING: Final = "Looking that up..."
ASSISTANT_CHECKING: Final = "Checking {target}..."
ASSISTANT_OFFER_CHECK: Final = (
    "I can check {target} live: *Run a live check* opens a private form for the sign-in "
    "(the password goes nowhere else), and the result comes to our direct messages."
)
