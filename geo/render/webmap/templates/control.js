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
})(window.Truceline = window.Truceline || {});
