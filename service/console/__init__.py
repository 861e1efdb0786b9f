"""The web console: bureau operators' pages and each enterprise's portal, served as
server-rendered HTML by the API's own application (``service.console.app.install``).

Pages are Jinja2 templates under ``templates/``; their texts come from the bilingual tables
under ``texts/`` (one JSON file per area, a key per text); charts and the map are SVG drawn
on the server; the only script is the pinned htmx file and ``static/console.js`` (no inline
script, no CDN: the Content-Security-Policy allows only this origin).
"""
