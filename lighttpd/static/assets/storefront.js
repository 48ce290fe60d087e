// flashsale storefront: local times on every page; on a sale page the server-time
// countdown, the versioned sale flag and the buying flow (token → precheck → order).
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const timeFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "numeric", minute: "2-digit", timeZoneName: "short",
  });

  // <time data-local> shows its instant (data-ms, else datetime) in the buyer's locale.
  for (const el of document.querySelectorAll("time[data-local]")) {
    const ms = el.dataset.ms ? Number(el.dataset.ms) : Date.parse(el.dateTime);
    if (Number.isFinite(ms)) el.textContent = timeFormat.format(ms);
  }
  for (const el of document.querySelectorAll("[data-units]")) {
    const n = Number(el.dataset.units);
    el.textContent = `${n.toLocaleString("en")} ${n === 1 ? "unit" : "units"}`;
  }

  const main = $("sale");
  if (!main) return;

  const saleId = main.dataset.sale;
  const ui = {
    status: $("status"), message: $("message"), order: $("order"), orderId: $("order-id"),
    buy: $("buy"), retry: $("retry"), countdownBox: $("countdown-box"), countdown: $("countdown"),
    stockState: $("stock-state"),
    captcha: $("captcha"), captchaImage: $("captcha-image"), captchaLabel: $("captcha-label"),
    captchaAnswer: $("captcha-answer"), captchaNew: $("captcha-new"), workProgress: $("work-progress"),
  };

  const MAX_RETRIES = 5;                 // automatic retries of busy / network / 5xx
  const RESYNC_MS = 3 * 60 * 1000;       // clock re-sync while waiting
  const OPEN_RECHECK_MS = 5000;          // flag reload while open, so a sell-out shows
  const FINAL = new Set(["success", "sold_out", "ended", "already_ordered"]);
  const MESSAGES = {
    loading: "Loading the sale…",
    waiting: "The sale has not started yet. The Buy button appears as soon as it opens.",
    starting: "The sale is starting. The Buy button appears in a moment.",
    open: "The sale is open. One order per buyer.",
    buying: "Placing your order…",
    captcha: "One check before your order: answer below.",
    success: "Your order is placed. Thank you!",
    sold_out: "Sold out: every unit has been sold.",
    ended: "This sale has ended.",
    already_ordered: "You have already ordered in this sale. One order per buyer.",
  };
  const ERRORS = {
    busy: "The shop is very busy right now.",
    rate_limited: "Too many attempts from this connection.",
    network: "The connection failed. Please check your network.",
    internal: "Something went wrong on our side.",
    invalid_token: "Your order could not be confirmed.",
    token_expired: "Your order token expired.",
    sign_in: "Sign in on the shop to buy.",
    unauthorized: "Sign in on the shop to buy.",
    not_found: "This sale could not be found.",
    forbidden: "This sale is open to accounts of a higher level only.",
    captcha_required: "This sale asks for a check before ordering.",
    captcha_failed: "The check could not be completed.",
  };
  // Retried automatically with back-off (as is any 5xx).
  const AUTO_RETRY = new Set(["busy", "rate_limited", "network", "internal"]);
  // Worth a "Try again" button; the rest need something else to change first.
  const RETRY_LATER = new Set([...AUTO_RETRY, "invalid_token", "token_expired", "sign_in", "unauthorized"]);

  let offset = 0;            // server clock − local clock, ms
  let synced = false;
  let startsAt = Number(main.dataset.startsAt);
  let endsAt = Number(main.dataset.endsAt) || null;
  let orderUrl = null;
  let stockState = Number(main.dataset.stock) > 0 ? "In stock" : "Sold out";
  let view = { state: "loading", message: MESSAGES.loading };
  let busy = false;          // a buying request (or its back-off) is under way
  let retryAction = null;
  let flagVersion = 0;
  let flagRequest = null;
  let opening = false;       // the zero-time flag reloads are running
  let zeroTimer = 0;
  let openPauseUntil = 0;
  let openPauseMs = 5000;    // doubles after each round at zero that still finds it scheduled
  let syncing = false;       // a clock sync is under way
  let endChecked = false;
  let flagLoadedAt = 0;      // performance.now() of the last flag answer
  let needs = { captcha: "off", powBits: 0 };  // what the token function asks first (from the flag)

  const serverNow = () => Date.now() + offset;

  class ApiError extends Error {
    constructor(code, status = 0, detail = "", retryAfter = 0) {
      super(detail || code);
      Object.assign(this, { code, status, detail, retryAfter });
    }
  }

  // ---- rendering: the only place that touches the page's state ----

  function render() {
    const { state, message, orderId = "", progress = null } = view;
    main.dataset.state = state;
    ui.message.textContent = message;
    ui.orderId.textContent = orderId;
    ui.order.hidden = state !== "success";
    ui.buy.hidden = state !== "open" && state !== "buying";
    ui.captcha.hidden = state !== "captcha";
    ui.workProgress.hidden = progress === null;
    if (progress !== null) ui.workProgress.value = Math.round(progress * 100);
    ui.buy.disabled = busy || state !== "open";
    ui.buy.setAttribute("aria-busy", String(busy));
    ui.buy.textContent = busy ? "Buying…" : "Buy now";
    ui.retry.hidden = state !== "error" || !retryAction;
    ui.countdownBox.hidden = state !== "waiting";
    ui.stockState.textContent = stockState;
  }

  function show(state, message = MESSAGES[state], extra = {}) {
    if (state === "sold_out") stockState = "Sold out";
    if (state === "ended") stockState = "Ended";
    view = { state, message, ...extra };
    render();
  }

  function fail(error, action) {
    retryAction = RETRY_LATER.has(error.code) || error.status >= 500 ? action : null;
    const known = Object.hasOwn(ERRORS, error.code) ? ERRORS[error.code] : "";
    show("error", known || error.detail || "Something went wrong.");
  }

  function formatCountdown(seconds) {
    const days = Math.floor(seconds / 86400);
    const hms = [Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60]
      .map((n) => String(n).padStart(2, "0")).join(":");
    return days ? `${days}d ${hms}` : hms;
  }

  // ---- server time ----

  // Five sequential samples of /api/time; the one with the shortest round trip wins.
  async function syncClock() {
    syncing = true;
    try {
      return await sampleClock();
    } finally {
      syncing = false;
    }
  }

  async function sampleClock() {
    let best = null;
    for (let i = 0; i < 5; i++) {
      try {
        const sent = performance.now();
        const res = await fetch("/api/time", { cache: "no-store", credentials: "same-origin" });
        const body = await res.json();
        const rtt = performance.now() - sent;
        const received = Date.now();
        if (res.ok && Number.isFinite(body.now) && (!best || rtt < best.rtt)) {
          best = { rtt, offset: body.now + rtt / 2 - received };
        }
      } catch { /* a lost sample; the others still count */ }
    }
    if (!best) return false;
    setOffset(best.offset);
    synced = true;
    return true;
  }

  function setOffset(ms) {
    offset = ms;
    main.dataset.offsetMs = String(Math.round(ms));
  }

  // ---- the sale flag (/sale/<id>/sale.js) ----

  // A new v on every load, from server seconds, so no cache hands back an old flag.
  function nextVersion() {
    flagVersion = Math.max(Math.floor(serverNow() / 1000), flagVersion + 1);
    return flagVersion;
  }

  function loadFlag() {
    return new Promise((resolve, reject) => {
      const before = window.flashsale?.sale;
      const script = document.createElement("script");
      const done = (loaded) => {
        script.remove();
        const flag = window.flashsale?.sale;
        // Each run of the script makes a new object: the same one means it did not run.
        if (loaded && flag && flag !== before && flag.id === saleId) resolve(flag);
        else reject(new ApiError("network"));
      };
      script.onload = () => done(true);
      script.onerror = () => done(false);
      script.src = `/sale/${encodeURIComponent(saleId)}/sale.js?v=${nextVersion()}`;
      document.head.append(script);
    });
  }

  // One flag load at a time; its answer updates the page unless a purchase decides it.
  function refreshFlag() {
    flagRequest ||= loadFlag().then(applyFlag).finally(() => {
      flagRequest = null;
      flagLoadedAt = performance.now();
    });
    return flagRequest;
  }

  function applyFlag(flag) {
    if (Number.isFinite(flag.startsAt)) startsAt = flag.startsAt;
    endsAt = Number.isFinite(flag.endsAt) ? flag.endsAt : null;
    if (!synced && Number.isFinite(flag.serverTime)) setOffset(flag.serverTime - Date.now());
    needs = { captcha: flag.captcha || "off", powBits: Number(flag.powBits) || 0 };
    if (busy || FINAL.has(view.state)) return;
    if (flag.state === "open") {
      orderUrl = flag.orderUrl || null;
      stockState = "In stock";
      show("open");
    } else if (flag.state === "scheduled") {
      stockState = "In stock";
      show("waiting", startsAt <= serverNow() ? MESSAGES.starting : MESSAGES.waiting);
      drawCountdown();
    } else if (flag.state === "sold_out" || flag.state === "ended") {
      show(flag.state);
    }
  }

  async function loadFlagWithRetries() {
    if (view.state === "error") show("loading");
    for (let attempt = 1; ; attempt++) {
      try {
        return await refreshFlag();
      } catch (error) {
        if (attempt > 3) return fail(error, loadFlagWithRetries);
        await sleep(backoffDelay(attempt));
      }
    }
  }

  // ---- countdown ----

  function tick() {
    const now = serverNow();
    if (view.state === "open" && endsAt && now >= endsAt && !endChecked) {
      endChecked = true;
      refreshFlag().catch(() => {});
    }
    // An open page that a reload may have given a cached flag learns of a sell-out soon.
    if (view.state === "open" && !busy && performance.now() - flagLoadedAt >= OPEN_RECHECK_MS) {
      refreshFlag().catch(() => {});
    }
    if (view.state !== "waiting") return;
    const left = drawCountdown();
    // The last stretch runs on its own timer, so the flag loads right at zero.
    if (left > 0 && left < 300 && !zeroTimer) {
      zeroTimer = setTimeout(() => { zeroTimer = 0; tick(); }, left + 1);
    }
    if (left <= 0 && !opening && performance.now() >= openPauseUntil) openAtZero();
  }

  // Shows the time left to the start (seconds rounded up); returns it in ms.
  function drawCountdown() {
    const left = startsAt - serverNow();
    const text = formatCountdown(Math.max(0, Math.ceil(left / 1000)));
    if (ui.countdown.textContent !== text) ui.countdown.textContent = text;
    return left;
  }

  // At zero: reload the flag now, then after 250 ms, 500 ms, 1 s, 2 s, 2 s while it still
  // says scheduled; then re-sync the clock and pause before the next round.
  async function openAtZero() {
    opening = true;
    show("waiting", MESSAGES.starting);
    let delay = 250;
    for (let attempt = 0; attempt < 6; attempt++) {
      if (attempt) {
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
      if (view.state !== "waiting" || startsAt > serverNow()) break;
      await refreshFlag().catch(() => {});
    }
    if (view.state === "waiting" && startsAt <= serverNow()) {
      await syncClock();
      openPauseUntil = performance.now() + openPauseMs;
      openPauseMs = Math.min(openPauseMs * 2, 60000);
    }
    opening = false;
  }

  function resyncWhileWaiting() {
    if (view.state === "waiting" && !opening && startsAt - serverNow() > 15000) syncClock();
  }

  // ---- buying ----

  async function api(method, url, body) {
    let res;
    try {
      res = await fetch(url, {
        method, credentials: "same-origin", cache: "no-store",
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiError("network");
    }
    const data = await res.json().catch(() => null);
    if (res.ok && data) return data;
    const error = data?.error ?? {};
    const retryAfter = Number(res.headers.get("Retry-After"));
    const code = error.code || (res.status >= 500 ? "internal" : res.ok ? "network" : "http");
    throw new ApiError(code, res.status, error.message, retryAfter > 0 ? retryAfter : 0);
  }

  // Exponential back-off with jitter: about 0.5, 1, 2, 4, 8 s.
  function backoffDelay(attempt) {
    const base = 500 * 2 ** (attempt - 1);
    return Math.min(8000, Math.round(base * (0.5 + Math.random())));
  }

  async function backoff(attempt, { code, retryAfter }) {
    const ms = retryAfter
      ? Math.min(retryAfter, 60) * 1000 + Math.round(Math.random() * 250)
      : backoffDelay(attempt);
    const why = code === "network" ? "The connection failed."
      : code === "rate_limited" ? "Too many attempts from your connection; the shop asks you to wait."
      : "The shop is busy.";
    show("buying", `${why} Trying again in ${Math.max(1, Math.round(ms / 1000))} s…`);
    await sleep(ms);
    show("buying");
  }

  // ---- captcha ----

  let answerCaptcha = null;  // resolves the challenge shown with the buyer's choice

  // A captcha request that waits out a 429 (as its Retry-After says) instead of failing the
  // purchase: a low per-address rate must not make the captcha unsolvable.
  async function captchaApi(method, url, body) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api(method, url, body);
      } catch (error) {
        if (error.code !== "rate_limited" || attempt > MAX_RETRIES) throw error;
        await backoff(attempt, error);
      }
    }
  }

  // Shows challenges until one is answered right; resolves to the pass.
  async function solveCaptcha() {
    let message = MESSAGES.captcha;
    for (;;) {
      const challenge = await captchaApi("GET", `/api/captcha?sale=${encodeURIComponent(saleId)}`);
      ui.captchaImage.hidden = !challenge.image;
      if (challenge.image) ui.captchaImage.src = challenge.image;
      ui.captchaImage.alt = challenge.image ? "A picture of digits to type" : "";
      ui.captchaLabel.textContent = challenge.question || "Type the digits in the picture";
      ui.captchaAnswer.value = "";
      show("captcha", message);
      ui.captchaAnswer.focus();
      const choice = await new Promise((resolve) => { answerCaptcha = resolve; });
      answerCaptcha = null;
      if (choice.another) {
        message = MESSAGES.captcha;
        continue;
      }
      show("buying", "Checking your answer…");
      try {
        const { pass } = await captchaApi("POST", "/api/captcha/verify", { challenge: challenge.challenge, answer: choice.answer });
        return pass;
      } catch (error) {
        if (error.code !== "captcha_failed") throw error;
        message = "That was not it. Here is another one.";
      }
    }
  }

  // ---- proof of work ----

  // Solves the sale's current proof-of-work task in a worker, showing progress; resolves to
  // what the token request carries.
  async function solveWork() {
    const task = await captchaApi("GET", `/api/captcha/pow?sale=${encodeURIComponent(saleId)}`);
    show("buying", "Preparing your order…", { progress: 0 });
    const worker = new Worker(main.dataset.powWorker);
    try {
      const counter = await new Promise((resolve, reject) => {
        worker.onmessage = ({ data }) => {
          if (data.counter !== undefined) resolve(data.counter);
          else show("buying", `Preparing your order… ${Math.round(data.progress * 100)} %`, { progress: data.progress });
        };
        worker.onerror = () => reject(new ApiError("internal", 0, "the proof of work could not run"));
        worker.postMessage({ nonce: task.nonce, bits: task.bits });
      });
      show("buying");
      return { nonce: task.nonce, counter };
    } finally {
      worker.terminate();
    }
  }

  // One purchase: requests strictly one after another. Resolves to the outcome.
  async function purchase() {
    let token = null;
    let pass = null;
    let work = null;
    let challenged = false;    // the token function asked for the sale's challenges
    let captchas = 0;
    let guestTried = false;
    let freshTokenTried = false;
    for (let retries = 0; ;) {
      try {
        if (!token) {
          // Asked for only once the token function wants them: a sold-out sale says so first.
          if (challenged && needs.captcha !== "off" && !pass) pass = await solveCaptcha();
          if (challenged && needs.powBits > 0 && !work) work = await solveWork();
          const body = { sale: saleId };
          if (pass) body.pass = pass;
          if (work) body.pow = work;
          token = await api("POST", "/api/token", body);
        }
        // With a token in hand the buyer is admitted: a busy window no longer holds them back.
        const check = await api("GET", `/api/precheck?sale=${encodeURIComponent(saleId)}`);
        if (!check.ok && check.reason !== "busy") {
          throw new ApiError(check.reason === "unknown_sale" ? "not_found" : check.reason);
        }
        const url = token.orderUrl || orderUrl;
        if (!url) throw new ApiError("not_started");
        return { state: "success", order: await api("POST", url, { sale: saleId, token: token.token }) };
      } catch (error) {
        const { code } = error;
        if (FINAL.has(code)) return { state: code };
        if (code === "not_started") return { state: "flag" };
        // A challenge is missing or was refused: solve what the sale asks again, then ask again.
        if ((code === "captcha_required" || code === "captcha_failed") && captchas < 5) {
          captchas++;
          challenged = true;
          token = null;
          pass = null;
          work = null;
          if (needs.captcha === "off" && needs.powBits === 0) needs = { ...needs, captcha: "image" };
          continue;
        }
        if (code === "unauthorized" && !guestTried) {
          guestTried = true;
          token = null;
          try {
            await api("POST", "/api/guest");
          } catch (guestError) {
            // No guest function (any 4xx: a 404 from the origin, a 405 from a static host).
            const noGuests = guestError.status >= 400 && guestError.status < 500;
            return { state: "error", error: noGuests ? new ApiError("sign_in") : guestError };
          }
          continue;
        }
        if ((code === "invalid_token" || code === "token_expired") && !freshTokenTried) {
          freshTokenTried = true;
          token = null;
          continue;
        }
        if ((AUTO_RETRY.has(code) || error.status >= 500) && retries < MAX_RETRIES) {
          await backoff(++retries, error);
          continue;
        }
        return { state: "error", error };
      }
    }
  }

  async function buy() {
    if (busy) return;
    busy = true;
    retryAction = null;
    show("buying");
    await flagRequest?.catch(() => {});   // one request at a time
    const outcome = await purchase();
    busy = false;
    if (outcome.state === "success") {
      show("success", MESSAGES.success, { orderId: String(outcome.order.orderId ?? "") });
    } else if (outcome.state === "error") {
      fail(outcome.error, buy);
    } else if (outcome.state === "flag") {
      show("loading", "The sale has not opened yet. Checking again…");
      await loadFlagWithRetries();
    } else {
      show(outcome.state);
    }
    ui.status.focus();
  }

  // ---- start ----

  ui.buy.addEventListener("click", () => { if (view.state === "open") buy(); });
  ui.captcha.addEventListener("submit", (event) => {
    event.preventDefault();
    const answer = ui.captchaAnswer.value.trim();
    if (answer && answerCaptcha) answerCaptcha({ answer });
  });
  ui.captchaNew.addEventListener("click", () => answerCaptcha?.({ another: true }));
  ui.retry.addEventListener("click", () => {
    const action = retryAction;
    retryAction = null;
    action?.();
  });

  let wasHidden = document.hidden;
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      wasHidden = true;
    } else if (wasHidden) {
      wasHidden = false;
      if (!busy && !syncing && (view.state === "waiting" || view.state === "open")) refreshFlag().catch(() => {});
    }
  });

  (async () => {
    render();
    await syncClock();
    await loadFlagWithRetries();
    tick();
    setInterval(tick, 250);
    setInterval(resyncWhileWaiting, RESYNC_MS);
  })();
})();
