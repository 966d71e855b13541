"""Simulated staff phones: HA users and Companion-app phones talking to a real ``hass``.

Everything here speaks to Home Assistant exactly as the Companion app (and the admin UI)
does, over HTTP and the websocket API only:

* ``StaffUser.create``: an admin creates the person's HA user and login
  (``config/auth/create``, ``config/auth_provider/homeassistant/create``); the person logs
  in through the login flow as the app does (its client id and redirect URI) and gets tokens.
* ``Phone.register``: ``POST /api/mobile_app/registrations`` with the user's token;
  ``notify.mobile_app_<name>`` appears, and a ``mobile_app`` device.
* ``Phone.connect``: the local-push channel (``mobile_app/push_notification_channel`` with
  ``support_confirm``), read by one thread per phone; each notification is kept and confirmed
  (``mobile_app/push_notification_confirm``) as the app does: unconfirmed, HA drops the
  channel after 10 s.
* ``Phone.press``: a notification's action button, as the app sends it
  (``fire_event`` of ``mobile_app_notification_action`` through the phone's webhook).

Make users and phones in a module fixture (``close`` them at its end), ``connect`` again
after a restart of ``hass``, and wait for what a phone shows with ``wait_for``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import concurrent.futures
import contextlib
from dataclasses import dataclass, field
import json
import threading
import time
from typing import Any
import uuid

import aiohttp

from .harness import Api, Failure, Hass, post, wait_until

# What the apps use to log in (HA accepts these client ids with the app's redirect URI).
CLIENT_IDS = {
    "android": "https://home-assistant.io/android",
    "ios": "https://home-assistant.io/iOS",
}
REDIRECT_URI = "homeassistant://auth-callback"


@dataclass
class StaffUser:
    """A member of staff: a Home Assistant user (not an admin) with an app login."""

    name: str
    username: str
    password: str
    user_id: str
    api: Api  # authenticated as this user

    @classmethod
    def create(cls, hass: Hass, name: str, platform: str = "android") -> StaffUser:
        """An admin adds the user (as in Settings → People); the person logs in on a phone."""
        created = hass.ws(
            {"type": "config/auth/create", "name": name, "group_ids": ["system-users"]}
        )
        user_id = created["user"]["id"]
        username = name.lower()
        password = f"{username}-e2e-{uuid.uuid4().hex[:8]}"
        hass.ws(
            {
                "type": "config/auth_provider/homeassistant/create",
                "user_id": user_id,
                "username": username,
                "password": password,
            }
        )
        user = cls(name, username, password, user_id, Api(hass.api.base))
        user.log_in(hass, platform)
        return user

    def log_in(self, hass: Hass, platform: str) -> None:
        """The app's login: the login flow, then the authorization code for tokens."""
        api = Api(hass.api.base)
        client_id = CLIENT_IDS[platform]
        flow = api.request(
            "POST",
            "/auth/login_flow",
            {
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": REDIRECT_URI,
            },
        )
        result = api.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": client_id, "username": self.username, "password": self.password},
        )
        if result.get("type") != "create_entry":
            raise Failure(f"{self.name} cannot log in: {result.get('errors')}")
        token = api.request(
            "POST",
            "/auth/token",
            {"grant_type": "authorization_code", "code": result["result"], "client_id": client_id},
            form=True,
        )
        self.api = Api(hass.api.base)
        self.api.token = token["access_token"]


@dataclass
class Notification:
    """One push a phone received (``hass_confirm_id`` taken out), and when."""

    message: str
    title: str | None
    data: dict[str, Any]
    received_at: float  # time.time()

    @property
    def tag(self) -> str | None:
        tag = self.data.get("tag")
        return str(tag) if tag is not None else None

    @property
    def cleared(self) -> bool:
        """The app removes the notification with this tag instead of showing one."""
        return self.message == "clear_notification"

    def action(self, title: str) -> str:
        """The action id of the button titled ``title``."""
        for button in self.data.get("actions", []):
            if button.get("title") == title:
                return str(button["action"])
        raise Failure(f"no button {title!r} on {self}")


@dataclass(eq=False)  # one phone is one phone: hashable by identity
class Phone:
    """One Companion-app phone of a staff member."""

    name: str  # the device name in the app: notify.mobile_app_<slug>
    owner: StaffUser
    platform: str = "android"  # android or ios: what a button press sends
    webhook_id: str = ""
    device_id: str = ""  # the mobile_app device in HA's device registry
    received: list[Notification] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _ws: aiohttp.ClientWebSocketResponse | None = None
    _task: concurrent.futures.Future[None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def notify_action(self) -> str:
        return f"mobile_app_{ha_slug(self.name)}"

    # -- registration ------------------------------------------------------------------

    def register(self, hass: Hass) -> None:
        """Register as the app does at first start; wait for its notify action and device."""
        app_id = (
            "io.homeassistant.companion.android"
            if self.platform == "android"
            else "io.robbie.HomeAssistant"
        )
        app_device_id = uuid.uuid4().hex
        answer = self.owner.api.request(
            "POST",
            "/api/mobile_app/registrations",
            {
                "device_id": app_device_id,
                "app_id": app_id,
                "app_name": "Home Assistant",
                "app_version": "2026.10.1",
                "device_name": self.name,
                "manufacturer": "Google" if self.platform == "android" else "Apple",
                "model": "Pixel 9" if self.platform == "android" else "iPhone17,3",
                "os_name": "Android" if self.platform == "android" else "iOS",
                "os_version": "16" if self.platform == "android" else "26.1",
                "supports_encryption": False,
                "app_data": {"push_websocket_channel": True},
            },
        )
        self.webhook_id = answer["webhook_id"]

        def device() -> str | None:
            for entry in hass.ws({"type": "config/device_registry/list"}):
                if ["mobile_app", app_device_id] in entry["identifiers"]:
                    return str(entry["id"])
            return None

        self.device_id = wait_until(device, 30, f"the device of phone {self.name}", interval=0.2)

        def notify_ready() -> bool:
            services: list[dict[str, Any]] = hass.request("GET", "/api/services")
            return any(
                s["domain"] == "notify" and self.notify_action in s["services"] for s in services
            )

        wait_until(notify_ready, 30, f"notify.{self.notify_action}", interval=0.2)

    # -- the local-push channel ----------------------------------------------------------

    def _worker(self) -> asyncio.AbstractEventLoop:
        """The phone's own event loop, in one thread for the phone's whole life.

        One thread per phone, started with the phone (in a module fixture) and ended by
        ``close``: connecting again after a restart of ``hass`` starts no new thread, so HA's
        test plugin, which fails a test that leaves a thread behind, has nothing to report.
        """
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=loop.run_forever, name=f"phone {self.name}", daemon=True
            )
            self._thread.start()
            self._loop = loop
        return self._loop

    def connect(self, hass: Hass, timeout: float = 30) -> None:
        """Open the push channel; returns once HA accepted it.

        Like the app, it tries again while HA is still starting (``mobile_app`` not yet set
        up answers ``unknown_command``), until ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            failure = self._connect_once(hass, max(deadline - time.monotonic(), 1))
            if failure is None:
                return
            if "unknown_command" not in failure or time.monotonic() > deadline:
                raise Failure(f"phone {self.name}: push channel refused: {failure}")
            time.sleep(0.2)

    def _connect_once(self, hass: Hass, timeout: float) -> str | None:
        self.disconnect()
        ready = threading.Event()
        failure: list[str] = []
        url = hass.api.base.replace("http", "ws", 1) + "/api/websocket"

        async def run() -> None:
            try:
                await self._channel(url, ready, failure)
            except Exception as err:  # the test sees it: here, or in ``errors`` later
                (self.errors if ready.is_set() else failure).append(f"channel: {err!r}")
            finally:
                self._ws = None
                ready.set()

        self._task = asyncio.run_coroutine_threadsafe(run(), self._worker())
        if not ready.wait(timeout):
            raise Failure(f"phone {self.name}: no push channel within {timeout:g} s")
        return failure[0] if failure else None

    async def _channel(self, url: str, ready: threading.Event, failure: list[str]) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.owner.api.token})
            if (await ws.receive_json()).get("type") != "auth_ok":
                failure.append("authentication failed")
                ready.set()
                return
            await ws.send_json(
                {
                    "id": 1,
                    "type": "mobile_app/push_notification_channel",
                    "webhook_id": self.webhook_id,
                    "support_confirm": True,
                }
            )
            reply = await ws.receive_json()
            if not reply.get("success"):
                failure.append(json.dumps(reply.get("error")))
                ready.set()
                return
            self._ws = ws
            ready.set()
            next_id = 2
            while True:
                msg = await ws.receive()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    return  # closed: by HA (stopping) or by ``disconnect``
                message = json.loads(msg.data)
                if message.get("type") == "event" and message.get("id") == 1:
                    event = dict(message["event"])
                    confirm_id = event.pop("hass_confirm_id", None)
                    with self._lock:
                        self.received.append(
                            Notification(
                                message=str(event.get("message", "")),
                                title=event.get("title"),
                                data=dict(event.get("data") or {}),
                                received_at=time.time(),
                            )
                        )
                    if confirm_id is not None:
                        await ws.send_json(
                            {
                                "id": next_id,
                                "type": "mobile_app/push_notification_confirm",
                                "webhook_id": self.webhook_id,
                                "confirm_id": confirm_id,
                            }
                        )
                        next_id += 1
                elif message.get("type") == "result" and not message.get("success"):
                    self.errors.append(str(message.get("error")))

    def disconnect(self) -> None:
        """Close the channel (the app going to the background for good)."""
        loop, ws, task = self._loop, self._ws, self._task
        if loop is None or task is None:
            return
        if ws is not None:
            with contextlib.suppress(RuntimeError, TimeoutError, aiohttp.ClientError):
                asyncio.run_coroutine_threadsafe(ws.close(), loop).result(timeout=10)
        with contextlib.suppress(TimeoutError, concurrent.futures.CancelledError):
            task.result(timeout=10)
        self._task = None

    def close(self) -> None:
        """Disconnect and end the phone's thread (module teardown)."""
        self.disconnect()
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
        self._loop = self._thread = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    # -- what the phone shows ----------------------------------------------------------

    def notifications(self, tag: str | None = None, since: float = 0) -> list[Notification]:
        """Received pushes (optionally with one tag, received at or after ``since``)."""
        with self._lock:
            return [
                n for n in self.received if (tag is None or n.tag == tag) and n.received_at >= since
            ]

    def wait_for(
        self,
        check: Callable[[Notification], bool],
        timeout: float,
        what: str,
        since: float = 0,
    ) -> Notification:
        """The first push since ``since`` that passes ``check``; ``Failure`` after timeout."""

        def probe() -> Notification | None:
            return next((n for n in self.notifications(since=since) if check(n)), None)

        try:
            return wait_until(probe, timeout, f"{what} on phone {self.name}", interval=0.1)
        except Failure as err:
            got = [(n.title, n.message, n.tag) for n in self.notifications(since=since)]
            raise Failure(f"{err}; it received: {got}") from None

    def showing(self, tag: str) -> Notification | None:
        """What the phone shows for ``tag`` now: the last push with it, unless cleared."""
        with_tag = self.notifications(tag)
        if not with_tag or with_tag[-1].cleared:
            return None
        return with_tag[-1]

    # -- pressing a button ---------------------------------------------------------------

    def press(self, hass: Hass, notification: Notification, title: str) -> None:
        """Press a button of a received notification, as this platform's app reports it.

        Android sends the notification's data fields beside the action (``tag`` among them);
        iOS sends the action and the notification's ``action_data`` only.
        """
        action = notification.action(title)
        event_data: dict[str, Any]
        if self.platform == "android":
            event_data = {
                key: value
                for key, value in notification.data.items()
                if key != "actions" and not isinstance(value, dict | list)
            }
            event_data.update(
                {
                    "message": notification.message,
                    "title": notification.title or "",
                    "action": action,
                }
            )
        else:
            event_data = {"action": action}
            if "action_data" in notification.data:
                event_data["action_data"] = notification.data["action_data"]
        body = {
            "type": "fire_event",
            "data": {"event_type": "mobile_app_notification_action", "event_data": event_data},
        }
        status = post(
            f"{hass.api.base}/api/webhook/{self.webhook_id}",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            raise Failure(f"phone {self.name}: the webhook answered {status} to a press")


def ha_slug(name: str) -> str:
    """HA's ``slugify`` (what ``notify.mobile_app_<slug>`` is named after)."""
    from homeassistant.util import slugify  # in the venv with Home Assistant

    return str(slugify(name))


def devices(*phones: Phone) -> list[str]:
    """The phones' device ids, as a blueprint's device selector holds them."""
    return [phone.device_id for phone in phones]
