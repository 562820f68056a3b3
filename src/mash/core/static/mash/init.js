// Progressive enhancement only: every page works without JavaScript.
// No inline script (a strict Content-Security-Policy will forbid it), so the js-enabled class is set here.
import { initAll } from '/static/govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
