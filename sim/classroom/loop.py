"""The teacher's loop (教师控制): the one thread that steps the class's model.

The teacher plays, pauses, steps, changes the speed and ends the class; the loop runs the days in
its own thread (the pages only read), `speed` days a second, and with `hold_at_period_end` it
pauses by itself at the end of each week or month, so that students choose before the next one.
"""

import threading

SPEED = 2.0  # days a second while playing (a week in 3.5 s)
MAX_SPEED = 40.0  # as the teaching app's fastest


class TeacherLoop:
    """Play / pause / step / speed / end for a `Session`, in a background thread."""

    def __init__(self, session, speed: float = SPEED, hold_at_period_end: bool = True):
        self.session = session
        self.speed = self.checked(speed)
        self.hold_at_period_end = hold_at_period_end
        self.playing = False
        self.wake = threading.Event()  # a command came: look again at once
        self.thread = threading.Thread(target=self.run, name="teacher-loop", daemon=True)
        self.thread.start()

    @staticmethod
    def checked(speed: float) -> float:
        if not 0 < speed <= MAX_SPEED:
            raise ValueError(f"speed {speed}: expected days a second above 0, at most "
                             f"{MAX_SPEED:g}")
        return float(speed)

    def play(self) -> None:
        self.playing = True
        self.wake.set()

    def pause(self) -> None:
        self.playing = False
        self.wake.set()

    def set_speed(self, speed: float) -> None:
        self.speed = self.checked(speed)
        self.wake.set()

    def step(self, days: int = 1) -> int:
        """Paused: run `days` days now (the teacher's Step); returns the day."""
        self.pause()
        return self.session.step(days)

    def end(self) -> None:
        """End the class and stop the loop."""
        self.playing = False
        self.session.end()
        self.wake.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=10)

    def run(self) -> None:
        """The loop: while playing, a day every 1/speed s; held at a period's end if asked."""
        session = self.session
        while session.running:
            if not self.playing:
                self.wake.wait()
                self.wake.clear()
                continue
            day = session.step(1)
            if self.hold_at_period_end and day % session.period_days == 0:
                self.playing = False
            self.wake.wait(1.0 / self.speed)
            self.wake.clear()
        self.playing = False
