/* Truceline map: aggregated incidents, one hexagon per occupied cell, drawn on a canvas.
 *
 * Fill = the most common verdict in the cell, opacity = the number of incidents, an
 * outline in the "new" colour = the cell holds new incidents; a dot sized by the number of
 * breaches marks cells with breaches. Tooltips list counts by verdict and party. The
 * canvas sits under the zones and lines (Leaflet draws SVG above canvas).
 *
 * D (from the server): lat, lon (cell centres); the corners, which the server unprojects
 * from the metric hexagon: ringRef (six [dlon, dlat] integer offsets from a centre, in
 * units of ringScale degrees) plus, per cell, ring (twelve integers added to ringRef);
 * counts (cells x verdicts), parties (cells x parties),
 * partyNames, fresh (new incidents per cell), maxCount, and the style lists verdictLabels,
 * verdictColours, newColour.
 */
(function (T) {
    "use strict";

    function tip(D, i) {
        var nv = D.verdictLabels.length, np = D.partyNames.length;
        var div = document.createElement("div");
        var total = 0, k;
        for (k = 0; k < nv; k++) { total += D.counts[i * nv + k]; }
        var head = document.createElement("strong");
        var count = total.toLocaleString(D.locale);
        var forms = D.texts.incidentForms;  // one per plural category of the language (CLDR)
        var form = forms[new Intl.PluralRules(D.locale).select(total)] || forms.other;
        head.textContent = form.replace("{count}", count)
            + (D.fresh[i] ? " " + D.texts.fresh.replace("{count}", D.fresh[i].toLocaleString(D.locale)) : "");
        div.appendChild(head);
        for (k = 0; k < nv; k++) {
            if (!D.counts[i * nv + k]) { continue; }
            var line = document.createElement("div");
            line.textContent = D.verdictLabels[k] + ": " + D.counts[i * nv + k].toLocaleString(D.locale);
            div.appendChild(line);
        }
        var parts = [];
        for (k = 0; k < np; k++) {
            var c = D.parties[i * np + k];
            if (c) { parts.push(D.partyNames[k] + " " + c.toLocaleString(D.locale)); }
        }
        var by = document.createElement("div");
        by.textContent = D.texts.byParty.replace("{parties}", parts.join(", "));
        div.appendChild(by);
        return div;
    }

    function tipFor(D, i) {
        return function () { return tip(D, i); };
    }

    function ring(D, i) {
        var out = [];
        for (var v = 0; v < 6; v++) {
            var at = 12 * i + 2 * v;
            out.push([D.lat[i] + (D.ringRef[2 * v + 1] + D.ring[at + 1]) * D.ringScale,
                      D.lon[i] + (D.ringRef[2 * v] + D.ring[at]) * D.ringScale]);
        }
        return out;
    }

    T.hexCells = function (layer, D) {
        var renderer = L.canvas({padding: 0.5});
        var nv = D.verdictLabels.length;
        var logMax = Math.log(1 + D.maxCount);
        var dots = [];
        for (var i = 0; i < D.lat.length; i++) {
            var total = 0, top = 0;
            for (var k = 0; k < nv; k++) {
                var c = D.counts[i * nv + k];
                total += c;
                if (c > D.counts[i * nv + top]) { top = k; }
            }
            var hex = L.polygon(ring(D, i), {
                renderer: renderer, fillColor: D.verdictColours[top],
                fillOpacity: 0.2 + 0.6 * Math.log(1 + total) / logMax,
                color: D.fresh[i] ? D.newColour : "#ffffff",
                weight: D.fresh[i] ? 2.5 : 0.4, opacity: 0.9
            });
            hex.bindTooltip(tipFor(D, i), {sticky: true});
            layer.addLayer(hex);
            if (D.counts[i * nv] > 0) { dots.push(i); }
        }
        var maxBreach = 1;
        dots.forEach(function (j) { maxBreach = Math.max(maxBreach, D.counts[j * nv]); });
        var logBreach = Math.log(1 + maxBreach);
        dots.forEach(function (j) {
            var dot = L.circleMarker([D.lat[j], D.lon[j]], {
                renderer: renderer, radius: 2 + 7 * Math.log(1 + D.counts[j * nv]) / logBreach,
                fillColor: D.verdictColours[0], fillOpacity: 0.95, color: "#ffffff", weight: 1
            });
            dot.bindTooltip(tipFor(D, j), {sticky: true});
            layer.addLayer(dot);
        });
    };
})(window.Truceline = window.Truceline || {});
