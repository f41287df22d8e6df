"""The live map's playback: a time control that steps the filtered incidents through the time window.

Each frame is computed on the server from the cached incidents, and only its incident
layers go to the browser (``feature_group_to_add``): the base map stays, so the viewer's
pan and zoom are kept, and the layers are bounded as on the live map (hex cells when the
fullest frame holds too many incidents for markers). Playing is a fragment that reruns
every few seconds and moves one frame on. The URL carries the position and the settings
(``frame=YYYY-MM-DD``, ``frame_step``, ``frame_window``, ``frame_show``): a link opens the
same frame.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, filter_panel, live_view
from geo import InputError
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.core.timeline import STEPS as STEP_LENGTHS
from geo.core.timeline import Frame, Timeline
from geo.i18n import N_, _
from geo.store import Store

STEPS = {"day": N_("Day"), "week": N_("Week")}
WINDOWS = {0: N_("One step"), 7: N_("7 days"), 30: N_("30 days"), 90: N_("90 days")}
SHOWS = {"sliding": N_("Sliding window"), "cumulative": N_("Cumulative")}
SPEEDS = (1, 2, 3, 5)
"""Seconds per frame while playing."""
URL_KEYS = ("frame", "frame_step", "frame_window", "frame_show")
_WIDGETS = {
    "frame_step": ("p_step", STEPS),
    "frame_window": ("p_window", WINDOWS),
    "frame_show": ("p_show", SHOWS),
}


def requested() -> bool:
    """Whether the URL asks for a playback frame (a shared link)."""
    return "frame" in st.query_params


def ours() -> bool:
    """Whether the frame in the URL is the one the playback last put there (not a link just opened)."""
    return st.query_params.get("frame") == (st.session_state.get("p_url") or {}).get("frame")


def forget_url() -> None:
    """Take the playback's keys out of the URL (back to the live map)."""
    for key in URL_KEYS:
        if key in st.query_params:
            del st.query_params[key]
    st.session_state.pop("p_url", None)
    st.session_state["p_playing"] = False


def _load_url() -> None:
    """Set the controls from the URL once per link: a shared link opens its frame with its settings."""
    params = {k: st.query_params[k] for k in URL_KEYS if k in st.query_params}
    if params == st.session_state.get("p_url"):
        return
    for key, (widget, choices) in _WIDGETS.items():
        raw = params.get(key)
        value = int(raw) if key == "frame_window" and raw is not None and raw.isdigit() else raw
        if value in choices:
            st.session_state[widget] = value
    st.session_state["p_wanted"] = params.get("frame")
    st.session_state["p_playing"] = False


def _toggle(last: int) -> None:
    playing = not st.session_state.get("p_playing", False)
    if playing and st.session_state.get("p_index", 0) >= last:
        st.session_state["p_index"] = 0  # play again from the start
    st.session_state["p_playing"] = playing


def _moved(delta: int | None = None) -> None:
    """A step button (``delta``) or the slider moved the frame: this run shows it, it does not advance."""
    if delta is None:
        st.session_state["p_index"] = st.session_state["p_slider"]
    else:
        st.session_state["p_index"] = max(st.session_state.get("p_index", 0) + delta, 0)
    st.session_state["p_moved"] = True


def _position(frames: Timeline) -> int:
    """The frame to show in a full run: the linked one, else where the viewer was, else the last."""
    wanted = st.session_state.pop("p_wanted", None)
    if wanted is not None:
        at = frames.index_at(wanted)
        if at is not None:
            return at
    current = st.session_state.get("p_index")
    return len(frames.frames) - 1 if current is None else min(int(current), len(frames.frames) - 1)


def _write_url(params: dict[str, str]) -> None:
    """Put the frame and the settings in the URL (and remember they are ours)."""
    st.session_state["p_url"] = params
    for key, value in params.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def _caption(frames: Timeline, shown: Frame) -> str:
    """The frame's name, in bold, and what it shows."""
    title = _("Frame {number} of {count}: {span}").format(
        number=shown.index + 1, count=len(frames.frames), span=shown.span
    )
    if frames.cumulative:
        how = _("everything since {start}").format(start=f"{frames.since:%Y-%m-%d %H:%M} UTC")
    elif frames.window > STEP_LENGTHS[frames.step]:
        how = _("the {days} days to its end").format(days=frames.window.days)
    else:
        return f"**{title}**"
    return f"**{title}** ({how})"


def show(store: Store, scen: Scenario, filters: Filters) -> None:
    """The playback: its controls, the frame's caption and the map."""
    _load_url()
    snap = common.snapshot()
    matching = filter_panel.apply(filters.with_(since=None, until=None), snap)
    c1, c2, c3, c4, c5 = st.columns([0.8, 1, 1, 1.2, 1], vertical_alignment="bottom")
    step = c2.selectbox(_("Step"), list(STEPS), format_func=lambda k: _(STEPS[k]), key="p_step")
    window = c3.selectbox(
        _("Window"),
        list(WINDOWS),
        format_func=lambda k: _(WINDOWS[k]),
        key="p_window",
        help=_("How much each frame shows, ending with its step."),
    )
    mode = c4.selectbox(_("Show"), list(SHOWS), format_func=lambda k: _(SHOWS[k]), key="p_show")
    speed = c5.selectbox(_("Seconds per frame"), SPEEDS, index=1, key="p_speed")
    try:
        frames = live_view.playback_timeline(
            matching, filters, step=step, window_days=window, cumulative=mode == "cumulative"
        )
    except InputError as err:
        st.warning(
            _("{problem}. Choose a shorter time window in the sidebar, or a longer step.").format(
                problem=common.md(err)
            )
        )
        return
    if frames is None:
        st.info(_("No incident matches these filters: there is nothing to play."))
        return
    last = len(frames.frames) - 1
    st.session_state["p_index"] = _position(frames)
    playing = bool(st.session_state.get("p_playing", False))
    c1.button(
        _("Pause") if playing else _("Play"),
        icon=":material/pause:" if playing else ":material/play_arrow:",
        type="primary",
        key="p_play",
        on_click=_toggle,
        args=(last,),
        width="stretch",
    )
    cells = live_view.playback_cells(matching, frames)
    st.session_state["p_fresh"] = True  # this full run shows the frame it has; the timer moves on

    @st.fragment(run_every=speed if playing else None)
    def frame() -> None:
        index = min(int(st.session_state.get("p_index", last)), last)
        moved = st.session_state.pop("p_moved", False)
        fresh = st.session_state.pop("p_fresh", False)
        if st.session_state.get("p_playing") and not moved and not fresh:
            if index >= last:
                st.session_state["p_playing"] = False
                st.rerun(scope="app")
            index += 1
        st.session_state["p_index"] = st.session_state["p_slider"] = index
        back, slider, forward = st.columns([0.12, 1, 0.12], vertical_alignment="center")
        back.button(
            "",
            icon=":material/skip_previous:",
            key="p_back",
            on_click=_moved,
            args=(-1,),
            disabled=index == 0,
        )
        slider.select_slider(
            _("Frame"),
            options=range(last + 1),
            format_func=lambda i: frames.frames[i].span,
            key="p_slider",
            on_change=_moved,
            label_visibility="collapsed",
        )
        forward.button(
            "",
            icon=":material/skip_next:",
            key="p_forward",
            on_click=_moved,
            args=(1,),
            disabled=index >= last,
        )
        shown = frames.frames[index]
        view = live_view.frame_view(matching, shown)
        _write_url({"frame": shown.key, "frame_step": step, "frame_window": str(window), "frame_show": mode})
        summary = filter_panel.describe(filters, scen)
        st.caption(f"{_caption(frames, shown)} · {common.how_many(view, 'shown')} · {summary}")
        live_view.show_map(scen, live_view.frame_layers(store, view, scen, cells=cells))

    frame()
