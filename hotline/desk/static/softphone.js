// The browser softphone: SIP.js (vendored from npm, plain ES modules) registers the agent's
// PJSIP endpoint over Asterisk's WebSocket; audio goes through WebRTC. The desk page only
// sees these few calls and events.
import { SimpleUser } from "./vendor/sip.js-0.21.2/lib/platform/web/index.js";

export class Softphone extends EventTarget {
  constructor(account, audio) {
    super();
    this.account = account;
    this.incoming = false;
    this.inCall = false;
    const iceServers = (account.ice_servers || []).map((urls) => ({ urls }));
    this.user = new SimpleUser(account.ws_url, {
      aor: account.uri,
      media: { constraints: { audio: true, video: false }, remote: { audio } },
      sendDTMFUsingSessionDescriptionHandler: true, // RFC 4733, Asterisk's default dtmf_mode
      reconnectionAttempts: 1000,
      reconnectionDelay: 4,
      userAgentOptions: {
        authorizationUsername: account.username,
        authorizationPassword: account.password,
        displayName: account.display_name,
        logBuiltinEnabled: false,
        sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers } },
      },
      delegate: {
        onServerConnect: () => this.emit("connected"),
        onServerDisconnect: () => this.emit("disconnected"),
        onRegistered: () => this.emit("registered"),
        onUnregistered: () => this.emit("unregistered"),
        onCallReceived: () => { this.incoming = true; this.emit("ringing"); },
        onCallAnswered: () => { this.incoming = false; this.inCall = true; this.emit("answered"); },
        onCallHangup: () => { this.incoming = false; this.inCall = false; this.emit("hangup"); },
        onCallHold: (held) => this.emit("hold", { held }),
      },
    });
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async start() {
    await this.user.connect();
    await this.user.register();
  }

  answer() { return this.user.answer(); }
  hangup() { return this.incoming ? this.user.decline() : this.user.hangup(); }
  mute(on) { return on ? this.user.mute() : this.user.unmute(); }
  hold(on) { return on ? this.user.hold() : this.user.unhold(); }
  dtmf(tone) { return this.user.sendDTMF(tone); }
  get muted() { return this.user.isMuted(); }
  get held() { return this.user.isHeld(); }
}
