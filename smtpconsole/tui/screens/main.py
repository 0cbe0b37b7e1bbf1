"""The main screen: protocol pane and command builder side by side, raw input and status below.

The screen renders what the session reports and forwards what the user asks for to the
``SessionController``. It contains no protocol rules of its own.

Under ``NARROW_WIDTH_CELLS`` columns the side column (lesson, guided commands, mailbox) starts
hidden, so the protocol pane takes the whole width. Ctrl+G shows or hides it at any width.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from smtpconsole.options import ConsoleOptions
from smtpconsole.tui.controller import SessionController, SessionFactory
from smtpconsole.tui.keys import MAIN_SCREEN_BINDINGS
from smtpconsole.tui.messages import (
    ConnectionFailed,
    EventsReceived,
    MailboxChanged,
    SessionChanged,
)
from smtpconsole.tui.typed_auth import ChallengeAnswer, TypedAuth
from smtpconsole.tui.widgets.command_builder import BuilderDefaults, CommandBuilder
from smtpconsole.tui.widgets.explanation import ExplanationPanel
from smtpconsole.tui.widgets.lesson_panel import LessonPanel
from smtpconsole.tui.widgets.mailbox import MailboxPanel
from smtpconsole.tui.widgets.protocol_pane import PaneLine, ProtocolPane
from smtpconsole.tui.widgets.raw_input import RawInput
from smtpconsole.tui.widgets.search_bar import SearchBar
from smtpconsole.tui.widgets.status_bar import SessionStatus, StatusBar, describe_session

if TYPE_CHECKING:
    from collections.abc import Callable

    from smtpconsole.protocol.replies import Reply
    from smtpconsole.tls import TlsInfo
    from smtpconsole.transcript import Event
    from smtpconsole.tui.pane_lines import EventFormatter
    from smtpconsole.tui.screens.composer import ComposedMessage


RECONNECT_HINT = "-- press F5 (session: reconnect) to connect again"

NARROW_WIDTH_CELLS = 100
"""Terminal width, in cells, below which the side column starts hidden."""

SHORT_HEIGHT_CELLS = 30
"""Terminal height, in cells, below which the panels under the pane get fewer lines."""

SIDE_PANEL_HINT = "Ctrl+G: guided commands"


class MainScreen(Screen[None]):
    """The console screen. Its keys are defined in ``tui.keys``."""

    BINDINGS: ClassVar[list[BindingType]] = MAIN_SCREEN_BINDINGS
    AUTO_FOCUS = "#raw-input"
    # The breakpoint classes only set widths and line counts in smtpconsole.tcss. Whether the
    # side column shows is decided in Python, because a Ctrl+G choice overrides the width.
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [
        (0, "-narrow"),
        (NARROW_WIDTH_CELLS, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: list[tuple[int, str]] | None = [
        (0, "-short"),
        (SHORT_HEIGHT_CELLS, "-tall"),
    ]

    side_panel_choice: var[bool | None] = var[bool | None](None)
    """True or False once the user showed or hid the side column; None follows the width."""

    def __init__(
        self,
        options: ConsoleOptions,
        practice: object | None = None,
        session_factory: SessionFactory | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        self.practice = practice
        self._session_factory = session_factory
        self.controller: SessionController | None = None
        self._formatter: EventFormatter | None = None
        self._last_reply_line: PaneLine | None = None
        self._typed_auth = TypedAuth()
        self._failed_tls: TlsInfo | None = None
        self._unsubscribe_mailbox: Callable[[], None] | None = None

    @property
    def target(self) -> str:
        return self.options.connect.address

    def compose(self) -> ComposeResult:
        options = self.options
        defaults = BuilderDefaults(
            ehlo_name=options.connect.ehlo_name,
            mail_from=options.mail_from,
            rcpt_to=options.rcpt_to,
            username=options.auth.username,
            mechanism=options.auth.mechanism,
        )
        lesson_panel = LessonPanel.for_practice(self.practice, id="lesson")
        yield Header(icon="✉")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ProtocolPane(id="pane")
                yield ExplanationPanel(id="explanation")
                if lesson_panel is not None:
                    yield Static("", id="lesson-brief")
            with Vertical(id="right"):
                if lesson_panel is not None:
                    yield lesson_panel
                yield CommandBuilder(defaults, id="builder")
                if self.practice is not None:
                    yield MailboxPanel(id="mailbox")
        yield Static("", id="input-advice")
        yield RawInput(id="raw-input")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "smtpconsole"
        self.sub_title = self.target
        self.query_one("#input-advice", Static).display = False
        self.query_one(StatusBar).status = SessionStatus(target=self.target)
        factory = self._session_factory
        if factory is None:
            self.controller = SessionController(self.app, self, self.options)
        else:
            self.controller = SessionController(self.app, self, self.options, factory)
        self._watch_practice_mailbox()
        for brief in self.query("#lesson-brief"):
            brief.border_title = "Lesson"
            brief.border_subtitle = "Ctrl+G: every step"
        self._show_side_panel(self.side_panel_visible)

    # Side column

    @property
    def side_panel_visible(self) -> bool:
        """Whether the side column shows: the user's choice, else whether the screen is wide."""
        if self.side_panel_choice is not None:
            return self.side_panel_choice
        return self.size.width >= NARROW_WIDTH_CELLS

    def on_resize(self, event: Resize) -> None:
        self._show_side_panel(self.side_panel_visible)

    def watch_side_panel_choice(self) -> None:
        self._show_side_panel(self.side_panel_visible)

    def _show_side_panel(self, visible: bool) -> None:
        columns = self.query("#right")
        if not columns:
            return
        right = columns.first()
        if not visible and self.focused is not None and right in self.focused.ancestors:
            self.query_one(RawInput).focus()
        right.display = visible
        self.query_one(ProtocolPane).border_subtitle = "" if visible else SIDE_PANEL_HINT
        for brief in self.query("#lesson-brief"):
            brief.display = not visible
        self._update_lesson_brief()

    def action_toggle_side_panel(self) -> None:
        visible = not self.side_panel_visible
        self.side_panel_choice = visible
        if visible:
            # Keyboard users land in the list of suggested commands.
            for suggestions in self.query("#suggestions"):
                suggestions.focus()

    def _update_lesson_brief(self) -> None:
        briefs = self.query("#lesson-brief")
        lessons = self.query(LessonPanel)
        if not briefs or not lessons or not briefs.first().display:
            return
        briefs.first(Static).update(lessons.first().brief())

    # Session start

    def start_session(self) -> None:
        """Connect in a worker, after the first frame, so start-up shows the screen first."""
        controller = self._require_controller()
        controller.run(controller.connect, "connect")

    def _require_controller(self) -> SessionController:
        if self.controller is None:
            raise RuntimeError("the main screen is not mounted yet")
        return self.controller

    def _formatter_for_events(self) -> EventFormatter:
        if self._formatter is None:
            from smtpconsole.tui.pane_lines import EventFormatter

            self._formatter = EventFormatter(self.options.connect.host)
        return self._formatter

    # Session news

    @on(EventsReceived)
    def _events_received(self, message: EventsReceived) -> None:
        from smtpconsole import transcript

        formatter = self._formatter_for_events()
        lines: list[PaneLine] = []
        for event in message.events:
            new_lines = formatter.lines(event)
            lines.extend(new_lines)
            if new_lines and new_lines[0].kind.startswith("reply-"):
                self._last_reply_line = new_lines[0]
            elif isinstance(event, transcript.ConnectionClosed):
                lines.append(PaneLine(RECONNECT_HINT, "note", event.at))
            self._note_event(event)
        self.query_one(ProtocolPane).append(lines)
        self._show_last_reply()
        for panel in self.query(LessonPanel):
            panel.observe(message.events)
        self._update_lesson_brief()

    def _note_event(self, event: Event) -> None:
        from smtpconsole import transcript

        if isinstance(event, transcript.LineSent):
            if event.source == "typed" and not event.secret:
                text = event.raw.decode("utf-8", errors="replace").removesuffix("\r\n")
                self.query_one(RawInput).add_history(text)
        elif isinstance(event, transcript.ReplyReceived):
            self._check_challenge(event.reply)
        elif isinstance(event, transcript.TlsFailed) and event.info is not None:
            self._failed_tls = event.info

    def _show_last_reply(self) -> None:
        line = self._last_reply_line
        if line is None or self.query_one(ProtocolPane).selected is not None:
            return
        self._explain_line(line, selected=False)

    def _explain_line(self, line: PaneLine, *, selected: bool) -> None:
        from smtpconsole import transcript

        if isinstance(line.source, transcript.ReplyReceived):
            self.query_one(ExplanationPanel).show_reply(
                line.source.reply,
                host=self.options.connect.host,
                last_verb=line.answered_verb,
                selected=selected,
            )

    @on(SessionChanged)
    async def _session_changed(self) -> None:
        controller = self._require_controller()
        session = controller.session
        status = self.query_one(StatusBar)
        builder = self.query_one(CommandBuilder)
        raw_input = self.query_one(RawInput)
        if session is None:
            status.status = SessionStatus(target=self.target, keepalive=controller.keepalive)
            await builder.show_dialogue(None)
            return
        status.status = describe_session(session, self.target)
        if not session.closed:
            builder.set_ehlo_name(session.default_ehlo_name())
        await builder.show_dialogue(None if session.closed else session.dialogue)
        raw_input.data_mode = session.dialogue.in_data and not session.closed
        self._update_input_advice(raw_input.value)

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        lines: list[str] = []
        if not message.reported:
            lines += [f"!! {line}" for line in message.message.splitlines() or ["failed"]]
            if message.hint:
                lines.append(f"-- hint: {message.hint}")
        if message.tls_info is not None:
            lines.append("-- press F8 (tls: show certificate) to see it and decide how to go on")
        if not message.connection_open:
            lines.append(RECONNECT_HINT)
        now = time.time()
        pane_lines = [
            PaneLine(line, "closed" if line.startswith("!!") else "note", now) for line in lines
        ]
        self.query_one(ProtocolPane).append(pane_lines)
        title = "No reply" if message.connection_open else "Connection problem"
        self.notify(message.message, title=title, severity="error")
        if message.tls_info is not None:
            from smtpconsole.tls import TlsInfo

            if isinstance(message.tls_info, TlsInfo):
                self._failed_tls = message.tls_info
                self._show_certificate_screen(message.tls_info, message.message)

    # Raw input

    @on(RawInput.LineEntered)
    def _line_entered(self, message: RawInput.LineEntered) -> None:
        controller = self._require_controller()
        text = message.text
        if controller.session is not None:
            self._typed_auth.line_typed(text, controller.session.dialogue)
        controller.run(lambda: controller.send_typed(text), "send")

    @on(Input.Changed, "#raw-input")
    def _raw_input_changed(self, event: Input.Changed) -> None:
        self._update_input_advice(event.value)

    def _update_input_advice(self, value: str) -> None:
        advice_widget = self.query_one("#input-advice", Static)
        session = self.controller.session if self.controller is not None else None
        if session is None or session.closed or (not value and not session.dialogue.in_data):
            advice_widget.display = False
            return
        advice = session.dialogue.check_line(value.encode("utf-8", errors="surrogateescape"))
        if not advice:
            advice_widget.display = False
            return
        from smtpconsole.tui.advice import advice_text

        text = advice_text(advice)
        advice_widget.update(text)
        advice_widget.display = True

    # Builder

    @on(CommandBuilder.LinesRequested)
    def _builder_lines(self, message: CommandBuilder.LinesRequested) -> None:
        controller = self._require_controller()
        lines = list(message.lines)
        controller.run(lambda: controller.send_lines(lines), "send")

    @on(CommandBuilder.AuthRequested)
    def _builder_auth(self, message: CommandBuilder.AuthRequested) -> None:
        controller = self._require_controller()
        controller.run(
            lambda: controller.authenticate(message.mechanism, message.username, message.secret),
            "AUTH",
        )

    @on(CommandBuilder.ComposerRequested)
    def _composer_requested(self) -> None:
        self.action_compose()

    # Pane, search and explanation

    @on(ProtocolPane.LineSelected)
    def _line_selected(self, message: ProtocolPane.LineSelected) -> None:
        if message.line is None:
            self._show_last_reply()
        else:
            self._explain_line(message.line, selected=True)

    @on(SearchBar.SearchChanged)
    def _search_changed(self, message: SearchBar.SearchChanged) -> None:
        pane = self.query_one(ProtocolPane)
        pane.search(message.text)
        self.query_one(SearchBar).show_status(pane.match_position, pane.match_count)

    @on(SearchBar.StepRequested)
    def _search_step(self, message: SearchBar.StepRequested) -> None:
        self.action_next_match(message.step)

    @on(SearchBar.Closed)
    def _search_closed(self) -> None:
        self.query_one(ProtocolPane).search("")
        self.query_one(RawInput).focus()

    # Practice mailbox

    def _watch_practice_mailbox(self) -> None:
        mailbox = getattr(self.practice, "mailbox", None)
        if mailbox is None:
            return
        subscribe = getattr(mailbox, "subscribe", None) or getattr(self.practice, "subscribe", None)
        if subscribe is not None:
            self._unsubscribe_mailbox = subscribe(self._mailbox_listener)
        self.post_message(MailboxChanged())

    def _mailbox_listener(self, _message: object) -> None:
        # Called in the practice server's thread; post_message is thread-safe.
        self.post_message(MailboxChanged())

    @on(MailboxChanged)
    def _mailbox_changed(self) -> None:
        mailbox = getattr(self.practice, "mailbox", None)
        messages = getattr(mailbox, "messages", None)
        if callable(messages):
            self.query_one(MailboxPanel).show_messages(messages())

    @on(LessonPanel.Completed)
    def _lesson_completed(self, message: LessonPanel.Completed) -> None:
        self.notify(f"{message.title}: every step done.", title="Lesson done")

    def action_choose_lesson(self) -> None:
        if self.practice is None:
            self.notify(
                "Lessons run on the practice server: smtpconsole practice", severity="warning"
            )
            return
        from smtpconsole.tui.screens.lesson_picker import LessonPickerScreen

        current = getattr(getattr(self.practice, "lesson", None), "name", None)
        self.app.push_screen(LessonPickerScreen(current), self._lesson_chosen)

    def _lesson_chosen(self, name: str | None) -> None:
        start_lesson = getattr(self.app, "start_lesson", None)
        if name is not None and start_lesson is not None:
            start_lesson(name)

    def on_unmount(self) -> None:
        if self._unsubscribe_mailbox is not None:
            self._unsubscribe_mailbox()

    # Actions

    def action_toggle_timestamps(self) -> None:
        pane = self.query_one(ProtocolPane)
        pane.show_timestamps = not pane.show_timestamps

    async def action_search(self) -> None:
        bars = self.query(SearchBar)
        if bars:
            bars.first().open()
            return
        # The bar is mounted on first use, so start-up does not pay for it.
        bar = SearchBar(id="search-bar")
        await self.query_one("#left").mount(bar, before=self.query_one(ProtocolPane))
        bar.open()

    def action_next_match(self, step: int) -> None:
        pane = self.query_one(ProtocolPane)
        position = pane.next_match(step)
        for bar in self.query(SearchBar):
            bar.show_status(position, pane.match_count)

    def action_focus_input(self) -> None:
        self.query_one(RawInput).focus()

    def action_copy_line(self) -> None:
        self.query_one(ProtocolPane).action_copy_line()

    def action_focus_pane(self) -> None:
        self.query_one(ProtocolPane).focus()

    def action_reconnect(self) -> None:
        controller = self._require_controller()
        controller.run(controller.connect, "reconnect")

    def action_toggle_keepalive(self) -> None:
        interval = self._require_controller().toggle_keepalive()
        if interval is None:
            self.notify("NOOP keepalive off.", timeout=3)
        else:
            self.notify(f"NOOP keepalive on: NOOP after {interval:g} s idle.", timeout=3)
        self.post_message(SessionChanged())

    def action_export(self) -> None:
        from smtpconsole.tui.export import export_path

        controller = self._require_controller()
        host = self.options.connect.host

        async def export() -> None:
            try:
                path = export_path(host)
            except OSError as error:
                self.notify(f"Cannot create the export file: {error}", severity="error")
                return
            try:
                written = await controller.export(str(path))
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            self.notify(f"Transcript written to {written} (secrets masked).", title="Export")

        controller.run(export, "export")

    def action_save_scenario(self) -> None:
        controller = self._require_controller()

        async def save() -> None:
            try:
                saved = controller.save_scenario()
            except OSError as error:
                self.notify(f"Cannot write the scenario file: {error}", severity="error")
                return
            now = time.time()
            lines = [PaneLine(f"-- {line}", "note", now) for line in saved.describe()]
            self.query_one(ProtocolPane).append(lines)
            self.notify(f"{saved.path}\nThe pane shows the replay command.", title="Scenario saved")

        controller.run(save, "save as scenario")

    def action_show_certificate(self) -> None:
        controller = self._require_controller()
        session = controller.session
        info = session.tls_info if session is not None else None
        if info is None and self._failed_tls is not None:
            self._show_certificate_screen(self._failed_tls, "the last TLS handshake failed")
            return
        if info is None:
            self.notify("The connection does not use TLS.", severity="warning")
            return
        self._show_certificate_screen(info, None)

    def _show_certificate_screen(self, info: TlsInfo, failure: str | None) -> None:
        from smtpconsole.tui.screens.certificate import CertificateScreen

        def chosen(insecure: bool | None) -> None:
            if insecure:
                self._continue_insecure()

        self.app.push_screen(CertificateScreen(info, failure), chosen)

    def _continue_insecure(self) -> None:
        controller = self._require_controller()
        self._failed_tls = None
        controller.run(controller.connect_insecure, "connect without verification")

    def action_compose(self) -> None:
        from smtpconsole.tui.screens.composer import ComposerScreen

        session = self.controller.session if self.controller is not None else None
        capabilities = session.dialogue.capabilities if session is not None else None
        screen = ComposerScreen(
            capabilities,
            mail_from=self.options.mail_from or "",
            rcpt_to=self.options.rcpt_to,
        )
        self.app.push_screen(screen, self._composed)

    def _composed(self, composed: ComposedMessage | None) -> None:
        if composed is None:
            return
        controller = self._require_controller()

        async def deliver() -> None:
            reply = await controller.deliver(
                composed.mail_from, composed.recipients, composed.built, composed.mail_params
            )
            if reply is None or not reply.is_success:
                self.notify(
                    "The server did not accept the message; see the pane.", severity="warning"
                )
            else:
                self.notify("The server accepted the message.", title="Sent")

        controller.run(deliver, "send message")

    # AUTH challenges to typed AUTH

    def _check_challenge(self, reply: Reply) -> None:
        controller = self._require_controller()
        session = controller.session
        if session is None or controller.auth_running:
            return
        if self._typed_auth.reply_received(reply, session.dialogue):
            self.call_after_refresh(self.action_answer_challenge)

    def action_answer_challenge(self) -> None:
        from smtpconsole.tui.screens.challenge import ChallengeScreen

        challenge = self._typed_auth.challenge
        if challenge is None:
            self.notify("No AUTH challenge (334) is waiting for a response.", severity="warning")
            return
        if any(isinstance(screen, ChallengeScreen) for screen in self.app.screen_stack):
            return
        screen = ChallengeScreen(
            challenge, self._typed_auth.mechanism_name, can_use_profile=self._profile_can_answer()
        )
        self.app.push_screen(screen, self._challenge_answered)

    def _profile_can_answer(self) -> bool:
        auth = self.options.auth
        has_source = bool(auth.password_env or auth.password_command or auth.keyring_service)
        return bool(auth.username and has_source)

    def _challenge_answered(self, answer: ChallengeAnswer | None) -> None:
        if answer is None:
            return
        controller = self._require_controller()
        username = self.options.auth.username or ""

        async def send() -> None:
            # Built inside the worker, so a bad challenge or a missing secret is reported.
            line = self._typed_auth.answer_line(
                answer, username=username, secret=controller.profile_secret
            )
            await controller.answer_challenge(line)

        controller.run(send, "AUTH answer")
