"""Speech to text for voice notes: one `Recognizer` interface, built-in (offline Whisper) or an endpoint.

Below the coach and beside `store`/`corpus`: it knows audio, not sales. The front ends get the
recogniser from `Services.speech` (built and loaded once) and hand the transcript to the same
answer and practice services as typed text.
"""
