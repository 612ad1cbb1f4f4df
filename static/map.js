// Maps (Leaflet, vendored in static/vendor/): the operation form's place picker, and read-only
// maps of places (the week's operations, both sides of an alert). Every page works without it:
// the coordinates are plain form fields and the places are listed as text.
(function () {
  "use strict";

  var QUALITY_WORDS = {
    rooftop: "rooftop",
    interpolated: "interpolated along a street range",
    centroid: "place centroid"
  };
  var TONES = { op: "#b42318", a: "#b42318", b: "#1d4ed8" };
  var WORLD = { center: [20, 0], zoom: 2 };
  var SEARCH_DELAY_MS = 300;
  var SEARCH_MIN_CHARS = 3;
  var DEFAULT_RADIUS_M = 500;
  var PLACE_ZOOM = 16;

  function byId(id) { return document.getElementById(id); }

  function escapeHtml(text) {
    var box = document.createElement("div");
    box.textContent = text;
    return box.innerHTML;
  }

  function qualityWords(quality) {
    return QUALITY_WORDS[quality] || (quality ? String(quality) : "unknown");
  }

  // "south,west,north,east" (the office's service area), or null.
  function areaBounds(text) {
    var parts = (text || "").split(",").map(Number);
    if (parts.length !== 4 || parts.some(function (n) { return !isFinite(n); })) return null;
    return L.latLngBounds([parts[0], parts[1]], [parts[2], parts[3]]);
  }

  function showDefaultView(map, el) {
    var area = areaBounds(el.getAttribute("data-area"));
    if (area) map.fitBounds(area);
    else map.setView(WORLD.center, WORLD.zoom);
  }

  function noteBasemapFailure(el) {
    var note = byId(el.id + "-note");
    if (!note || !note.hidden) return;
    note.textContent = "The basemap could not be loaded. The pin, the circle and the coordinates still work.";
    note.hidden = false;
  }

  function addBasemap(map, el) {
    var kind = el.getAttribute("data-basemap");
    var url = el.getAttribute("data-basemap-url");
    var options = { maxZoom: 19, attribution: escapeHtml(el.getAttribute("data-attribution") || "") };
    if (kind === "tiles") {
      var tiles = L.tileLayer(url, options);
      tiles.once("tileerror", function () { noteBasemapFailure(el); });
      tiles.addTo(map);
    } else if (kind === "pmtiles" && window.pmtiles) {
      var source = new window.pmtiles.PMTiles(new URL(url, window.location.href).href);
      source.getHeader().then(function (header) {
        options.maxNativeZoom = header.maxZoom;
        window.pmtiles.leafletRasterLayer(source, options).addTo(map);
      }, function () { noteBasemapFailure(el); });
    }
  }

  // With no basemap and the demo gazetteer: its places as grey dots for bearings (towns named,
  // the others named on hover). They are landmarks, not operations: a click goes to the map.
  function addReference(map, el) {
    var places = [];
    try { places = JSON.parse(el.getAttribute("data-reference") || "[]"); } catch (e) { places = []; }
    places.forEach(function (p) {
      var dot = L.circleMarker([p.lat, p.lon], {
        radius: p.town ? 5 : 3, weight: 1, color: "#4b5563", fillColor: "#4b5563",
        fillOpacity: p.town ? 0.35 : 0.8, className: "map-reference" + (p.town ? " map-reference-town" : "")
      }).addTo(map);
      dot.bindTooltip(escapeHtml(String(p.name)), {
        permanent: !!p.town, direction: "right", offset: [6, 0],
        className: "reference-tag" + (p.town ? " reference-town" : "")
      });
    });
  }

  function makeMap(el, options) {
    el.parentNode.hidden = false;
    var map = L.map(el, options || {});
    map.attributionControl.setPrefix("Leaflet");
    L.control.scale({ metric: true, imperial: true }).addTo(map);
    addBasemap(map, el);
    addReference(map, el);
    return map;
  }

  function circleStyle(tone, dashed) {
    var colour = TONES[tone] || TONES.op;
    return { color: colour, fillColor: colour, weight: 2, fillOpacity: 0.12, dashArray: dashed ? "6 6" : null };
  }

  // --- the address search: an ARIA combobox with a listbox of suggestions ------------------

  function addressSearch(input, listbox, url, eventId, onChoose, say) {
    var timer = null, seq = 0, controller = null, candidates = [], active = -1;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    function close() {
      listbox.hidden = true;
      listbox.textContent = "";
      candidates = []; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = listbox.querySelectorAll("[role=option]");
      if (!items.length) return;
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var chosen = candidates[index];
      if (!chosen) return;
      input.value = chosen.label;
      close();
      onChoose(chosen);
    }

    function option(candidate, index) {
      var item = document.createElement("li");
      item.id = listbox.id + "-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      var label = document.createElement("span");
      label.className = "option-label";
      label.textContent = candidate.label;
      var gap = document.createElement("span");
      gap.className = "sr-only";
      gap.textContent = ", ";
      var meta = document.createElement("span");
      meta.className = "option-meta";
      meta.textContent = "Position: " + qualityWords(candidate.quality) +
        (candidate.in_service_area === false ? " · outside the service area" : "");
      item.appendChild(label); item.appendChild(gap); item.appendChild(meta);
      item.addEventListener("mousedown", function (e) { e.preventDefault(); });
      item.addEventListener("click", function () { choose(index); });
      return item;
    }

    function show(found, query) {
      close();
      if (!found.length) {
        say("No address found for “" + query + "”. Try another spelling, or place the pin on the map.", "info");
        return;
      }
      candidates = found;
      found.forEach(function (c, i) { listbox.appendChild(option(c, i)); });
      listbox.style.top = (input.offsetTop + input.offsetHeight + 2) + "px";
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      say(found.length + (found.length === 1 ? " suggestion" : " suggestions") +
        ": use the up and down arrow keys, then Enter.", "info");
    }

    function unavailable(detail) {
      close();
      say("Address search is unavailable right now. " +
        (detail || "Place the pin on the map or type the latitude and longitude: the form still works."), "error");
    }

    function search(query) {
      var mine = ++seq;
      if (controller) controller.abort();
      controller = new AbortController();
      var params = new URLSearchParams({ q: query });
      if (eventId) params.set("event", eventId);
      say("Searching…", "info");
      fetch(url + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller.signal
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body || {} };
        });
      }).then(function (answer) {
        if (mine !== seq) return;
        if (answer.status === 200 && answer.body.geocoder === "off") {
          close();
          say("Address search is off in this office. Place the pin on the map or type the latitude and longitude.", "info");
        } else if (answer.status === 200) show(answer.body.candidates || [], query);
        else if (answer.status === 401) { close(); say("Your session has ended: sign in again to search addresses.", "error"); }
        else if (answer.status === 400 || answer.status === 429) { close(); say(answer.body.error || "That search was refused.", "error"); }
        else unavailable(answer.body.error);
      }, function (error) {
        if (error && error.name === "AbortError") return;
        if (mine === seq) unavailable("");
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < SEARCH_MIN_CHARS) { seq++; close(); return; }
      timer = window.setTimeout(function () { search(query); }, SEARCH_DELAY_MS);
    });

    input.addEventListener("keydown", function (e) {
      var open = !listbox.hidden;
      if (e.key === "ArrowDown" && open) { e.preventDefault(); highlight(active + 1); }
      else if (e.key === "ArrowUp" && open) { e.preventDefault(); highlight(active < 0 ? -1 : active - 1); }
      else if (e.key === "Enter" && open) { e.preventDefault(); if (active >= 0) choose(active); }
      else if (e.key === "Escape" && open) { e.preventDefault(); close(); }
      else if (e.key === "Tab") close();
    });

    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  // --- the operation form: pin, circle and coordinates kept in step ------------------------

  function readNumber(field, low, high) {
    var text = field.value.trim();
    if (text === "") return null;
    var value = Number(text);
    return isFinite(value) && value >= low && value <= high ? value : null;
  }

  function formMap(el) {
    var lat = byId("latitude"), lon = byId("longitude"), radius = byId("radius_m");
    var subtype = byId("subtype"), kind = byId("kind"), address = byId("location_address");
    var listbox = byId("location_address-listbox"), status = byId("place-status");
    var locate = byId("use-my-location");
    if (!lat || !lon || !radius) return;
    var fieldset = el.closest("fieldset");
    var radii = {};
    try { radii = JSON.parse(el.getAttribute("data-radii") || "{}"); } catch (e) { radii = {}; }
    var map = null, pin = null, circle = null;
    var caption = document.createElement("p");
    caption.className = "map-caption";
    caption.id = el.id + "-circle";
    caption.hidden = true;
    el.insertAdjacentElement("afterend", caption);

    function say(text, tone) {
      if (!status) return;
      status.textContent = text;
      status.className = "place-status tone-" + (tone || "info");
    }

    function radiusNow() {
      var typed = readNumber(radius, 1, 1e6);
      if (typed !== null) return { metres: typed, typed: true };
      return { metres: radii[subtype && subtype.value] || DEFAULT_RADIUS_M, typed: false };
    }

    function point() {
      var a = readNumber(lat, -90, 90), b = readNumber(lon, -180, 180);
      return a === null || b === null ? null : L.latLng(a, b);
    }

    function writeFields(at) {
      lat.value = at.lat.toFixed(6);
      lon.value = at.lng.toFixed(6);
    }

    function drawCircle() {
      if (!circle) return;
      var r = radiusNow();
      circle.setRadius(r.metres);
      circle.setStyle(circleStyle("op", !r.typed));
      var type = subtype && subtype.selectedIndex >= 0 ? subtype.options[subtype.selectedIndex].text.toLowerCase() : "operation";
      caption.textContent = "Circle: " + r.metres.toLocaleString("en-US") + " m" +
        (r.typed ? " radius." : ", the default radius of a " + type + " (dashed until you type one).");
      caption.hidden = false;
    }

    function place(at, how) {
      if (!map) return;
      if (!pin) {
        pin = L.marker(at, { draggable: true, autoPan: true, title: "Operation place: drag to move", alt: "Operation place" }).addTo(map);
        circle = L.circle(at, { radius: DEFAULT_RADIUS_M, interactive: false, className: "op-circle" }).addTo(map);
        pin.on("drag", function () {
          circle.setLatLng(pin.getLatLng());
          writeFields(pin.getLatLng());
        });
        pin.on("dragend", function () {
          writeFields(pin.getLatLng());
          say("Pin moved to " + lat.value + ", " + lon.value + ". Check the address still describes the place.", "ok");
        });
      } else {
        pin.setLatLng(at);
        circle.setLatLng(at);
      }
      drawCircle();
      if (how === "fit") map.fitBounds(at.toBounds(2 * radiusNow().metres), { maxZoom: PLACE_ZOOM });
      else if (!map.getBounds().contains(at)) map.panTo(at);
    }

    function start() {
      if (map || (fieldset && fieldset.hidden)) return;
      map = makeMap(el, { scrollWheelZoom: false });
      var at = point();
      if (at) { map.setView(at, PLACE_ZOOM); place(at, "fit"); }
      else showDefaultView(map, el);
      map.on("click", function (e) {
        if (pin) return;
        writeFields(e.latlng);
        place(e.latlng, "keep");
        say("Pin placed on the map at " + lat.value + ", " + lon.value + ". Drag it to adjust.", "ok");
      });
    }

    function coordinatesTyped() {
      var at = point();
      if (at) place(at, "keep");
    }
    lat.addEventListener("input", coordinatesTyped);
    lon.addEventListener("input", coordinatesTyped);
    radius.addEventListener("input", drawCircle);
    if (subtype) subtype.addEventListener("change", drawCircle);
    if (kind) kind.addEventListener("change", function () {
      window.setTimeout(function () { start(); if (map) map.invalidateSize(); }, 0);
    });

    if (address && listbox) {
      addressSearch(address, listbox, el.getAttribute("data-geocode-url"), el.getAttribute("data-event-id"),
        function (chosen) {
          var at = L.latLng(chosen.lat, chosen.lon);
          writeFields(at);
          place(at, "fit");
          var outside = chosen.in_service_area === false, rough = chosen.quality !== "rooftop";
          say("Pin placed at " + chosen.label + ". Position: " + qualityWords(chosen.quality) + "." +
            (outside ? " This place is outside the office’s service area." : "") +
            (rough ? " Not the building itself: drag the pin onto the exact place." : " Drag the pin to adjust."),
            outside || rough ? "warn" : "ok");
        }, say);
    }

    if (locate && navigator.geolocation && window.isSecureContext) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        say("Finding your location…", "info");
        navigator.geolocation.getCurrentPosition(function (found) {
          var at = L.latLng(found.coords.latitude, found.coords.longitude);
          writeFields(at);
          place(at, "fit");
          say("Pin placed at your location (accurate to about " + Math.round(found.coords.accuracy) +
            " m). Check it and add the address before saving.", "ok");
        }, function (error) {
          say(error.code === 1
            ? "The browser was not allowed to share your location. Search an address or place the pin instead."
            : "Your location could not be found. Search an address or place the pin instead.", "error");
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    start();
  }

  // --- read-only maps: the places listed next to the map -----------------------------------

  function placesMap(el) {
    var list = byId(el.getAttribute("data-places"));
    if (!list) return;
    var items = list.querySelectorAll("[data-lat][data-lon]");
    var map = makeMap(el, {});
    var bounds = null;
    showDefaultView(map, el);
    items.forEach(function (item) {
      var at = L.latLng(Number(item.getAttribute("data-lat")), Number(item.getAttribute("data-lon")));
      var metres = Number(item.getAttribute("data-radius")) || DEFAULT_RADIUS_M;
      var extent = at.toBounds(2 * metres);
      var tone = item.getAttribute("data-tone") || "op";
      var summary = item.querySelector(".place-summary");
      var marker = L.marker(at, { title: item.getAttribute("data-title") || "", alt: item.getAttribute("data-title") || "" }).addTo(map);
      L.circle(at, L.extend({ radius: metres, interactive: false, className: "place-circle place-" + tone },
        circleStyle(tone, item.getAttribute("data-dashed") === "true"))).addTo(map);
      if (summary) marker.bindPopup(summary.cloneNode(true));
      var tag = item.getAttribute("data-tag");
      if (tag) marker.bindTooltip(escapeHtml(tag), { permanent: true, direction: "right", offset: [10, -18], className: "place-tag place-tag-" + tone });
      bounds = bounds ? bounds.extend(extent) : L.latLngBounds(extent.getSouthWest(), extent.getNorthEast());
      var button = item.querySelector("button[data-show]");
      if (button) {
        button.hidden = false;
        button.addEventListener("click", function () {
          map.fitBounds(extent, { maxZoom: PLACE_ZOOM, animate: false });
          marker.openPopup();
          el.scrollIntoView({ block: "nearest" });
        });
      }
    });
    if (bounds) map.fitBounds(bounds, { maxZoom: PLACE_ZOOM, padding: [20, 20] });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.L) return;
    document.querySelectorAll("[data-map=form]").forEach(formMap);
    document.querySelectorAll("[data-map=places]").forEach(placesMap);
  });
})();
