/* Truceline map: a Leaflet control showing fixed HTML that the server has already escaped. */
(function (T) {
    "use strict";

    T.control = function (map, position, className, html) {
        var control = L.control({position: position});
        control.onAdd = function () {
            var div = L.DomUtil.create("div", className);
            div.innerHTML = html;
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        control.addTo(map);
        return control;
    };

    /* A control whose content is a <details> (the legend): folded on a narrow map, open on a
     * wide one, decided in the browser from the map's own width, and kept within a share of
     * the map so it never hides most of it. Once the viewer opens or folds it, it stays so. */
    T.foldOnNarrow = function (control, map, wideFrom) {
        var box = control.getContainer();
        var details = box.querySelector("details");
        if (!details) { return; }
        var chosen = false;
        var summary = details.querySelector("summary");
        if (summary) {
            summary.addEventListener("click", function () { chosen = true; });
        }
        function fit() {
            var size = map.getSize();
            if (!size.x) { return; }
            box.style.maxHeight = Math.max(Math.round(size.y * 0.6) - 20, 60) + "px";
            box.style.maxWidth = Math.max(Math.min(320, Math.round(size.x * 0.7)), 120) + "px";
            if (!chosen) { details.open = size.x >= wideFrom; }
        }
        fit();
        map.on("resize", fit);
        map.whenReady(fit);
    };
})(window.Truceline = window.Truceline || {});
