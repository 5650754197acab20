import { useStudio } from '../../state/store';

export function ThemeToggle() {
  const theme = useStudio((s) => s.theme);
  const toggleTheme = useStudio((s) => s.toggleTheme);
  const dark = theme === 'dark';
  return (
    <button
      type="button"
      className="button button--ghost"
      aria-pressed={dark}
      onClick={toggleTheme}
      title={dark ? 'Switch to the light theme' : 'Switch to the dark theme'}
    >
      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
        {dark ? (
          <path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5Z" fill="currentColor" />
        ) : (
          <g fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
            <circle cx="12" cy="12" r="4" />
            <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
          </g>
        )}
      </svg>
      Dark theme
    </button>
  );
}
