//! Opaque state tokens: random strings that name server-side round state. Nothing about the
//! round can be read from a token, and a tampered one is simply unknown.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use base64::Engine;
use rand::RngExt;

use super::mailbox::DeltaItem;
use super::time::Window;

/// Where a token leaves the client in a round.
#[derive(Debug, Clone)]
pub enum TokenKind {
    /// `$skiptoken`: the rest of a round's items, from `pos`.
    Skip {
        /// The round's items, as they were when it began.
        items: Arc<Vec<DeltaItem>>,
        /// Where the next page starts.
        pos: usize,
        /// Whether it is a full round.
        full: bool,
        /// The round it continues (see `RoundWatch`).
        round: u64,
    },
    /// `$deltatoken`: changes after `seq`.
    Delta,
}

/// What a sync state token stands for.
#[derive(Debug, Clone)]
pub struct StateToken {
    /// The calendar.
    pub calendar: String,
    /// The window of the round.
    pub window: Window,
    /// Where in a round, or between rounds.
    pub kind: TokenKind,
    /// The change counter the next delta token of this round starts from.
    pub seq: u64,
    epoch: u64,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not shaped like any token this server issues: 400.
    Malformed,
    /// Well-formed but unknown or expired: 410.
    Gone,
}

/// Tokens issued and still honoured. Old ones are forgotten past `CAPACITY` (they answer 410,
/// as an expired sync state would on the real service).
#[derive(Debug, Default)]
pub struct TokenTable {
    map: HashMap<String, StateToken>,
    order: VecDeque<String>,
    epoch: u64,
    /// Per view, the tokens issued last, newest last, with their numbers: older ones answer 410.
    newest: HashMap<String, VecDeque<(u64, String)>>,
    issued: u64,
}

/// How many of a view's newest links stay valid (graph-delta.md section 9).
pub const VALID_LINKS: usize = 3;

const CAPACITY: usize = 200_000;
const TOKEN_LEN: usize = 43;

impl TokenTable {
    /// A new token for `kind` of `calendar`'s `window`, at change `seq`.
    pub fn issue(&mut self, calendar: &str, window: Window, kind: TokenKind, seq: u64) -> String {
        let bytes: [u8; 32] = rand::rng().random();
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if self.order.len() >= CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
        self.order.push_back(token.clone());
        self.issued += 1;
        let newest = self.newest.entry(calendar.to_owned()).or_default();
        newest.push_back((self.issued, token.clone()));
        if newest.len() > VALID_LINKS
            && let Some((_, old)) = newest.pop_front()
        {
            self.map.remove(&old);
        }
        self.map.insert(
            token.clone(),
            StateToken {
                calendar: calendar.to_owned(),
                window,
                kind,
                seq,
                epoch: self.epoch,
            },
        );
        token
    }

    /// What `token` stands for, or why it is not (anymore) valid.
    pub fn get(&self, token: &str) -> Result<StateToken, TokenError> {
        let well_formed = token.len() == TOKEN_LEN
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(TokenError::Malformed);
        }
        match self.map.get(token) {
            Some(t) if t.epoch == self.epoch => Ok(t.clone()),
            _ => Err(TokenError::Gone),
        }
    }

    /// Every outstanding token now answers 410.
    pub fn expire_all(&mut self) {
        self.epoch += 1;
        self.map.clear();
        self.order.clear();
        self.newest.clear();
    }

    /// The generations of a view's valid links, as the real 410 lists them:
    /// `[highest=157][157][155][156]`.
    pub fn newest(&self, view: &str) -> String {
        let Some(newest) = self.newest.get(view) else {
            return String::new();
        };
        let highest = newest.iter().map(|(n, _)| *n).max().unwrap_or(0);
        let mut text = format!("[highest={highest}]");
        for (n, _) in newest.iter().rev() {
            text.push_str(&format!("[{n}]"));
        }
        text
    }

    /// The current expiry generation, reported in 410 messages as Graph does.
    pub fn generation(&self) -> u64 {
        self.epoch
    }
}
