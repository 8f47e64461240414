// The page's behaviour: send the message to POST /sms and show the answer. Everything the user or the
// server wrote is put on the page with textContent, never parsed as HTML.
'use strict';

(() => {
  const form = document.getElementById('check-form');
  const textarea = document.getElementById('sms');
  const button = document.getElementById('check-button');
  const result = document.getElementById('result');
  const problem = document.getElementById('problem');
  const verdictBadge = document.getElementById('verdict-badge');
  const verdictText = document.getElementById('verdict-text');
  const meterFill = document.getElementById('meter-fill');
  const probability = document.getElementById('probability');
  const guessOutcome = document.getElementById('guess-outcome');
  const checkedMessage = document.getElementById('checked-message');
  const appVersion = document.getElementById('app-version');
  const modelVersion = document.getElementById('model-version');
  const cachedNote = document.getElementById('cached-note');

  function showProblem(title, detail) {
    result.hidden = true;
    problem.replaceChildren();
    const heading = document.createElement('strong');
    heading.textContent = title;
    problem.append(heading, document.createTextNode(detail));
    problem.hidden = false;
  }

  // One decimal; near-certain answers say so instead of rounding to a flat 0% or 100%.
  function formatPercent(probability) {
    if (probability > 0.999 && probability < 1) return 'over 99.9%';
    if (probability < 0.001 && probability > 0) return 'under 0.1%';
    return `${Math.round(probability * 1000) / 10}%`;
  }

  function showAnswer(answer, message) {
    problem.hidden = true;
    const isSpam = answer.result === 'spam';
    result.classList.toggle('is-spam', isSpam);
    result.classList.toggle('is-ham', !isSpam);
    verdictBadge.textContent = answer.result;
    verdictText.textContent = isSpam ? 'This looks like spam.' : 'This looks like a normal message.';
    meterFill.style.width = `${answer.spamProbability * 100}%`;
    probability.textContent = `Spam probability: ${formatPercent(answer.spamProbability)}`;
    if (typeof answer.guessCorrect === 'boolean') {
      guessOutcome.textContent = answer.guessCorrect ? 'Your guess matches the spam filter.' : 'Your guess differs from the spam filter.';
      guessOutcome.hidden = false;
    } else {
      guessOutcome.hidden = true;
    }
    checkedMessage.textContent = message;
    appVersion.textContent = answer.appVersion;
    modelVersion.textContent = answer.modelVersion;
    cachedNote.hidden = !answer.cached;
    result.hidden = false;
  }

  async function readError(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') return body.error;
    } catch {
      // Not JSON: fall through to the status line.
    }
    return `The server answered ${response.status}.`;
  }

  async function check() {
    const message = textarea.value;
    if (message.trim() === '') {
      showProblem('Nothing to check yet.', ' Type or paste a message first.');
      textarea.focus();
      return;
    }
    const guess = form.elements.namedItem('guess').value;
    const body = guess === '' ? { sms: message } : { sms: message, guess };
    button.disabled = true;
    button.textContent = 'Checking…';
    try {
      const response = await fetch('/sms', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.ok) {
        showAnswer(await response.json(), message);
      } else if (response.status === 503) {
        showProblem('The spam filter is taking a short break.', ' The model service is unavailable right now, so we could not check your message. Please try again in a moment.');
      } else if (response.status === 400 || response.status === 413 || response.status === 415) {
        showProblem('We could not check this message.', ` ${await readError(response)}`);
      } else {
        showProblem('Something went wrong on our side.', ' Please try again in a moment.');
      }
    } catch {
      showProblem('We could not reach the spam check.', ' Check your connection and try again.');
    } finally {
      button.disabled = false;
      button.textContent = 'Check message';
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void check();
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
