/**
 * The login form of `medvlm serve` when it needs an API key: the key is sent once to `/v1/session`,
 * which answers with an HttpOnly session cookie; the key is not kept in the page.
 */
const key = document.getElementById('key') as HTMLInputElement;
const status = document.getElementById('status') as HTMLDivElement;

async function signIn(): Promise<void> {
  const res = await fetch('/v1/session', { method: 'POST', headers: { authorization: `Bearer ${key.value.trim()}` } });
  key.value = '';
  if (res.ok) location.reload();
  else status.textContent = res.status === 401 ? 'That key is not valid.' : `The server answered ${res.status}.`;
}

document.getElementById('signin')!.addEventListener('click', () => void signIn());
key.addEventListener('keydown', (e) => e.key === 'Enter' && void signIn());
