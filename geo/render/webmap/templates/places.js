/* Truceline map: place labels from the shipped GeoNames layer, shown by zoom level.
 *
 * data: {name: [], local: [], lat: [], lon: [], zoom: [], pane: "…", attribution: "…"}, places
 * biggest first. A place is labelled from its zoom on; a label overlapping a bigger place's
 * label is left out, so the map stays readable at every zoom. Names are set with textContent. */
(function (T) {
    "use strict";

    var MAX_LABELS = 250;

    T.places = function (map, layer, data) {
        var made = {};

        function marker(i) {
            if (made[i]) { return made[i]; }
            var box = document.createElement("span");
            var latin = document.createElement("span");
            latin.className = "tl-place-name";
            latin.textContent = data.name[i];
            box.appendChild(latin);
            if (data.local[i]) {
                var local = document.createElement("span");
                local.className = "tl-place-local";
                local.textContent = data.local[i];
                box.appendChild(local);
            }
            var icon = L.divIcon({className: "tl-place", html: box, iconSize: null, iconAnchor: [0, 0]});
            made[i] = L.marker([data.lat[i], data.lon[i]], {
                icon: icon, pane: data.pane, interactive: false, keyboard: false
            });
            return made[i];
        }

        function width(i) {
            var n = Math.max(data.name[i].length, data.local[i] ? data.local[i].length * 1.8 : 0);
            return 10 + 6.5 * n;
        }

        function update() {
            layer.clearLayers();
            var zoom = map.getZoom();
            var size = map.getSize();
            var taken = [];
            var shown = 0;
            for (var i = 0; i < data.name.length && shown < MAX_LABELS; i++) {
                if (data.zoom[i] > zoom) { continue; }
                var p = map.latLngToContainerPoint([data.lat[i], data.lon[i]]);
                if (p.x < -50 || p.y < -30 || p.x > size.x + 50 || p.y > size.y + 30) { continue; }
                var r = {x0: p.x - 4, y0: p.y - 8, x1: p.x + width(i), y1: p.y + (data.local[i] ? 26 : 14)};
                var clash = false;
                for (var k = 0; k < taken.length && !clash; k++) {
                    var t = taken[k];
                    clash = r.x0 < t.x1 && t.x0 < r.x1 && r.y0 < t.y1 && t.y0 < r.y1;
                }
                if (clash) { continue; }
                taken.push(r);
                layer.addLayer(marker(i));
                shown += 1;
            }
        }

        if (map.attributionControl && data.attribution) {
            map.attributionControl.addAttribution(data.attribution);
        }
        map.on("zoomend moveend resize", update);
        map.whenReady(update);
        return update;
    };
})(window.Truceline = window.Truceline || {});
