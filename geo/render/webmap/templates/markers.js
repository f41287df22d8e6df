/* Truceline map: incidents as circle markers.
 *
 * Fill = verdict, ring = party, dashes = attribution basis. Popups and tooltips are built
 * as DOM with textContent, so no text from the data is ever parsed as HTML or script.
 *
 * D (from the server): lat, lon, v (verdict code), p (party code, -1: none), a (basis
 * code), isNew; the style lists verdictIds, verdictLabels, verdictColours, verdictText,
 * partyColours, unattributedColour, newColour, newLabel, attributions, dashes; fields
 * ([key, label] rows of the popup) and f (popup text by key: a list, or {d: values, c: codes}).
 */
(function (T) {
    "use strict";

    function cell(col, i) {
        if (col === undefined || col === null) { return ""; }
        var v = Array.isArray(col) ? col[i] : col.d[col.c[i]];
        return v === null || v === undefined ? "" : String(v);
    }

    function popup(D, i) {
        var root = document.createElement("div");
        root.className = "tl-popup";
        var head = document.createElement("div");
        head.className = "tl-popup-head";
        var badge = document.createElement("span");
        badge.className = "tl-badge";
        badge.style.background = D.verdictColours[D.v[i]];
        badge.style.color = D.verdictText[D.v[i]];
        badge.textContent = D.verdictLabels[D.v[i]];
        head.appendChild(badge);
        if (D.isNew[i]) {
            var fresh = document.createElement("span");
            fresh.className = "tl-badge tl-badge-new";
            fresh.textContent = D.newLabel;
            head.appendChild(fresh);
        }
        var title = document.createElement("strong");
        title.textContent = " " + cell(D.f.title, i);
        head.appendChild(title);
        root.appendChild(head);
        var table = document.createElement("table");
        for (var k = 0; k < D.fields.length; k++) {
            var value = cell(D.f[D.fields[k][0]], i);
            if (value === "") { continue; }
            var row = table.insertRow();
            var th = document.createElement("th");
            th.textContent = D.fields[k][1];
            row.appendChild(th);
            row.insertCell().textContent = value;
        }
        root.appendChild(table);
        return root;
    }

    function tip(D, i) {
        var span = document.createElement("span");
        span.textContent = cell(D.f.title, i) + " \u00b7 " + D.verdictLabels[D.v[i]]
            + " \u00b7 " + cell(D.f.time, i);
        return span;
    }

    function bind(marker, D, i) {
        marker.bindPopup(function () { return popup(D, i); }, {maxWidth: 440, minWidth: 340});
        marker.bindTooltip(function () { return tip(D, i); });
    }

    T.markers = function (layer, D) {
        for (var i = 0; i < D.lat.length; i++) {
            var ll = [D.lat[i], D.lon[i]];
            if (D.isNew[i]) {
                L.circleMarker(ll, {radius: 11, color: D.newColour, weight: 3, opacity: 0.9,
                    fill: false, interactive: false, className: "tl-new-halo"}).addTo(layer);
            }
            var p = D.p[i], a = D.a[i];
            var marker = L.circleMarker(ll, {
                radius: D.isNew[i] ? 7 : 6,
                fillColor: D.verdictColours[D.v[i]], fillOpacity: 0.9,
                color: p >= 0 ? D.partyColours[p] : D.unattributedColour,
                weight: 2.5, opacity: a === 0 ? 1 : 0.85,
                dashArray: D.dashes[a] || null,
                className: "tl-incident tl-v-" + D.verdictIds[D.v[i]] + " tl-a-" + D.attributions[a]
            });
            bind(marker, D, i);
            layer.addLayer(marker);
        }
    };
})(window.Truceline = window.Truceline || {});
