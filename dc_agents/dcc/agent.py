"""The DC-C agent's work: registration at start, quotes on request.

Registration (Protocol 12.1): read the EK and its certificate from the
TPM, create an AK under the EK, send both to DC-S, recover DC-S's
credential secret with ActivateCredential, seal that secret to PCRs 0-7
(the chapter's sealed channel key), then complete the registration and
keep the CID and AK certificate.  An agent that restarts with a saved
identity DC-S still knows does not register again.

Before every quote (and at start) the agent unseals its secret: if it
cannot, the platform changed since registration; the agent refuses to
attest from then on, also across restarts (a marker in its state
directory).  Only an operator who removes the agent's state (after
checking the platform) lets it register again.

The channel key (acaas_nova/attestation/channel.py) is derived from the
unsealed secret and the CID and kept in memory only: every message to
DC-S carries a MAC under it, and requests from DC-S without a valid MAC
are ignored before the TPM is touched.  When an unseal fails while the
agent runs, it sends one last authenticated report (the round's answer,
or ``platform_changed``) with the key it unsealed before, then forgets
the key; an agent that starts on a changed platform never had the key,
so it is silent and DC-S sees the node ``unknown``.

An answer carries at most ``[dcc] max_log_bytes`` of the IMA list; a
longer list goes in chunks, each answer but the last saying so
(``ima_more``), each to its own request and nonce.
"""

import logging
import threading
import time

import oslo_messaging

from acaas_nova import exception
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from acaas_nova.tpm import keys
from acaas_nova.tpm import seal
from acaas_nova.tpm.device import TPMDevice
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcc import imalog
from dc_agents.dcc import store

LOG = logging.getLogger(__name__)
BOOT_PCRS = tuple(range(8))


class Agent:
    """One compute node's DC-C."""

    def __init__(self, conf, dcs_api) -> None:
        self.conf = conf
        self.dcs = dcs_api
        self.host = conf.dcc.host
        self.hypervisor = conf.dcc.hypervisor_hostname or conf.dcc.host
        self.identity: store.Identity | None = None
        self.platform_changed: att_errors.PlatformChanged | None = None
        self.ready = threading.Event()
        self.log = imalog.LogReader(conf.dcc.ima_log_path)
        self._tpm_lock = threading.Lock()
        #: The channel key, in memory only (None: cannot speak).
        self.channel_key: bytes | None = None
        #: While the registration awaits an operator's approval (the host
        #: name was not declared): the monotonic time it lapses at unless
        #: DC-S attests the node before (see approval_lapsed).
        self.awaiting_until: float | None = None

    @property
    def node(self) -> str:
        if self.host == self.hypervisor:
            return self.host
        return "%s:%s" % (self.host, self.hypervisor)

    # -- registration -----------------------------------------------------

    def enrol(self) -> store.Identity:
        """Make sure DC-S knows this node; register if it does not.

        Raises oslo.messaging errors while DC-S cannot be reached (the
        caller retries) and RegistrationRefused when DC-S refuses.
        """
        changed = store.platform_changed(self.conf.dcc.state_path)
        if changed is not None:
            # Only an operator re-enrols a changed platform (see forget).
            self.platform_changed = att_errors.PlatformChanged(reason=changed)
            LOG.critical(
                "Platform of %s changed (%s); not attesting until the "
                "state in %s is removed",
                self.node,
                changed,
                self.conf.dcc.state_path,
            )
            self.ready.set()
            return None
        saved = store.load(self.conf.dcc.state_path)
        if saved is not None and (saved.host, saved.hypervisor_hostname) == (
            self.host,
            self.hypervisor,
        ):
            key = self._check_seal(saved)
            if key is None:
                self.ready.set()
                return None
            try:
                known = self.dcs.registration_status(
                    self.host, self.hypervisor, saved.cid, key
                )
            except att_errors.ChannelError as exc:
                LOG.warning("DC-S refused our key (%s)", exc.message)
                known = False
            if known:
                self.channel_key = key
                LOG.info("Node %s is registered as %s", self.node, saved.cid)
                return self._set(saved)
            LOG.info("DC-S no longer knows %s: registering again", self.node)
        return self._set(self._register())

    def _set(self, ident):
        self.identity = ident
        self.ready.set()
        return ident

    def _check_seal(self, ident) -> bytes | None:
        """The channel key from the sealed secret; None (and the marker
        written) if it no longer unseals.  Nothing is sent then: without
        the key the agent cannot speak, DC-S sees silence (unknown)."""
        try:
            with self._tpm_lock, TPMDevice(self.conf.dcc.tcti) as tpm:
                secret = seal.unseal(tpm, ident.sealed)
        except att_errors.PlatformChanged as exc:
            self._changed(exc)
            return None
        return channel.derive_key(secret, ident.cid)

    def report_changed(self) -> None:
        """Tell DC-S, authenticated, that the platform changed (once,
        with the key unsealed before), then forget the key."""
        key, self.channel_key = self.channel_key, None
        if key is None or self.identity is None:
            return
        try:
            self.dcs.platform_changed(
                self.host,
                self.hypervisor,
                self.identity.cid,
                self.platform_changed.message,
                key,
            )
        except (errors.NotRegistered, att_errors.ChannelError) as exc:
            LOG.info("Platform change report refused: %s", exc.message)
        except oslo_messaging.MessagingException as exc:
            LOG.warning("Platform change report not sent: %s", exc)

    def _changed(self, exc) -> None:
        """Stop attesting for good: the sealed secret is out of reach."""
        self.platform_changed = exc
        store.mark_platform_changed(self.conf.dcc.state_path, exc.message)
        LOG.critical(
            "Platform of %s changed, no longer attesting: %s", self.node, exc
        )

    def _register(self) -> store.Identity:
        ek_kind = self.conf.dcc.ek_type
        with self._tpm_lock, TPMDevice(self.conf.dcc.tcti) as tpm:
            # A killed agent may have left objects in a TPM without a
            # resource manager (swtpm); with /dev/tpmrm0 this is a no-op.
            tpm.flush_transient_objects()
            ek = keys.read_ek(tpm, ek_kind)
            ak = keys.create_ak(tpm, self.conf.dcc.ak_type, ek_kind)
        if ek.certificate is None:
            raise errors.RegistrationRefused(
                node=self.node, reason="the TPM holds no EK certificate"
            )
        challenge = self.dcs.register(
            self.host, self.hypervisor, ek.public, ek.certificate, ak.public
        )
        cid = messages.text(challenge.get("cid"), "CID", 64)
        with self._tpm_lock, TPMDevice(self.conf.dcc.tcti) as tpm:
            secret = keys.activate_credential(
                tpm,
                ak,
                messages.decode(challenge["credential_blob"], "credential"),
                messages.decode(challenge["encrypted_secret"], "secret"),
                ek_kind,
            )
            sealed = seal.seal(tpm, secret, BOOT_PCRS, "sha256")
        key = channel.derive_key(secret, cid)
        done = self.dcs.activate(
            self.host, self.hypervisor, challenge["session"], cid, key
        )
        ident = store.Identity(
            host=self.host,
            hypervisor_hostname=self.hypervisor,
            ek_kind=ek_kind,
            ak=ak,
            sealed=sealed,
            cid=done["cid"],
            ak_certificate=done["ak_certificate"],
        )
        store.save(self.conf.dcc.state_path, ident)
        self.channel_key = key
        self.platform_changed = None
        if done.get("awaiting_approval"):
            timeout = float(done.get("approval_timeout") or 0)
            self.awaiting_until = time.monotonic() + timeout
            LOG.warning(
                "Node %s registered as %s, awaiting an operator's approval "
                "(acaas-manage host approve %s) within %ds: the host name "
                "was not declared",
                self.node,
                ident.cid,
                self.node,
                timeout,
            )
        else:
            self.awaiting_until = None
            LOG.info("Node %s registered as %s", self.node, ident.cid)
        return ident

    def approval_lapsed(self) -> bool:
        """Whether the registration awaited approval and DC-S dropped it
        unapproved (it never asked for a quote in time): then the agent
        registers again by itself."""
        until = self.awaiting_until
        return until is not None and time.monotonic() > until

    # -- attestation (Protocol 12.2) ---------------------------------------

    def quote(self, nonce: bytes, selection, ima_offset: int) -> dict:
        """Quote ``selection`` with ``nonce``; IMA entries from ima_offset."""
        # DC-S asks only nodes it attests: approved, if that was awaited.
        self.awaiting_until = None
        # DC-S may ask as soon as registration completes, before _set.
        if not self.ready.wait(5.0):
            raise errors.NotRegistered(
                node=self.node, reason="registration is not complete"
            )
        if self.platform_changed is not None:
            raise self.platform_changed
        ident = self.identity
        with self._tpm_lock, TPMDevice(self.conf.dcc.tcti) as tpm:
            try:
                seal.unseal(tpm, ident.sealed)
            except att_errors.PlatformChanged as exc:
                self._changed(exc)
                raise
            evidence = keys.quote(
                tpm, ident.ak, nonce, selection, ident.ek_kind
            )
        # Read after quoting: the log may run ahead of the quote, never
        # behind it (DC-S accepts the prefix that matches).  At most
        # max_log_bytes of it: DC-S asks for the rest, chunk by chunk.
        limit = self.conf.dcc.max_log_bytes
        chunk = self.log.read_chunk(ima_offset, limit)
        if len(chunk.text) > limit:
            LOG.warning(
                "IMA log entry %d of %s is longer than [dcc] max_log_bytes "
                "(%d bytes): sent alone",
                ima_offset,
                self.node,
                len(chunk.text),
            )
        LOG.debug(
            "Quote for %s: %d entries (%d bytes) of IMA log from %d%s",
            self.node,
            chunk.lines,
            len(chunk.text),
            ima_offset,
            ", more follow" if chunk.more else "",
        )
        return messages.quote_answer(
            ident.cid,
            evidence.attest,
            evidence.signature,
            evidence.pcrs,
            chunk.text,
            ima_offset,
            self.conf.dcc.domain,
            ima_more=chunk.more,
        )

    def answer_round(self, worker, round_id, nonce, selection, offset):
        """Answer a round of ``worker``: a quote over this node's round
        nonce, or the reason there is none, sent back as a cast with a
        MAC bound to that nonce."""
        key = self.channel_key
        answer = error = None
        try:
            answer = self.quote(nonce, selection, offset)
        except att_errors.PlatformChanged as exc:
            error = {"kind": "platform_changed", "message": exc.message}
            self.channel_key = None  # this answer is the last message
        except exception.ACaaSException as exc:
            error = {"kind": "agent_error", "message": exc.message[:500]}
        try:
            self.dcs.round_answer(
                worker,
                round_id,
                self.host,
                self.hypervisor,
                answer,
                error,
                key,
                nonce,
            )
        except oslo_messaging.MessagingException as exc:
            # DC-S records the node unknown at the round's deadline.
            LOG.warning("Answer to round %s not sent: %s", round_id, exc)
