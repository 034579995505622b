"""The participatory classroom (参与式课堂, issue 15): students govern their own communities in one
shared city.

    seats    Seat, SeatError, codes: a short join code a seat, one community a seat
    session  Session: the class's one model, its seats and screens, the teacher's loop, its log
    loop     TeacherLoop: the one thread that steps the model (play, pause, step, speed, end)
    log      ClassLog, read: the JSON-lines log of (day, seat, choice)
    replay   replay(log): the class run again from its log, to identical tables
    serve    ClassServer: the pages of one running class, under uvicorn in a thread
    pages    the student's page (join, outcomes, choice) and the teacher's (loop, seats, league)
    cli      `shequ classroom`

The choices themselves, and the verbs they replace, are in sim/choices.py.
"""

from sim.classroom.loop import TeacherLoop
from sim.classroom.replay import replay
from sim.classroom.seats import Seat, SeatError
from sim.classroom.session import Session

__all__ = ["Seat", "SeatError", "Session", "TeacherLoop", "replay"]
