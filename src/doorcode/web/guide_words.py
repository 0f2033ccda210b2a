"""The guidebook's fixed wording in the guest's language (the host's own texts are shown as
written). A language without wording here falls back to English; dates are written the
guest's way by Babel (CLDR)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from doorcode.web.templating import local

__all__ = ["LANGUAGES", "Words"]

EN = {
    "hello": "Hello {name}, welcome to",
    "welcome": "Welcome to",
    "your_stay": "Your stay",
    "check_in": "Check-in",
    "check_out": "Check-out",
    "local_times": "Times are local time at the property ({zone}).",
    "your_code": "Your door code",
    "unconfirmed": (
        "Your booking is not confirmed yet. Your code will appear here once it is, from {when}."
    ),
    "waiting": "Your code will appear here on",
    "over": "Your stay ended on {when}. Your code no longer works. Thank you for staying!",
    "enter_key": "type it, then the enter key",
    "host_lets_in": "your host will let you in here",
    "works_from": "The code works from check-in, {when}.",
    "preparing": "Your code is being prepared. Please check again shortly, or contact your host.",
    "backup": "Backup code",
    "backup_hint": "Use it on the same doors if your code does not open them.",
    "tell_host": "Tell your host",
    "told_arrived": "You told your host you arrived at {when}.",
    "told_left": "You told your host you left at {when}.",
    "arrived_button": "I have arrived",
    "left_button": "I have left",
    "problem_button": "My code does not work",
    "your_host": "Your host",
    "call": "Call {phone}",
    "email": "Email {email}",
    "still_locked": "If you still cannot get in, please call your host now.",
    "leaving": "When you leave",
    "wifi": "Wi-Fi",
    "directions": "Getting here",
    "parking": "Parking",
    "house_rules": "House rules",
    "check_out_steps": "Checking out",
    "done_arrived": "Thank you! We told your host you have arrived.",
    "done_left": "Thank you for staying! We told your host you have left.",
    "done_problem-backup": "We told your host. Please try the backup code below.",
    "done_problem": "We told your host, who will help you get in. Please call them.",
}
PT = {
    "hello": "Olá {name}, bem-vindo/a a",
    "welcome": "Bem-vindo/a a",
    "your_stay": "A sua estadia",
    "check_in": "Entrada",
    "check_out": "Saída",
    "local_times": "Horas locais do alojamento ({zone}).",
    "your_code": "O seu código da porta",
    "unconfirmed": (
        "A sua reserva ainda não está confirmada. O código aparece aqui quando estiver, "
        "a partir de {when}."
    ),
    "waiting": "O seu código aparece aqui em",
    "over": "A sua estadia terminou a {when}. O código já não funciona. Obrigado pela visita!",
    "enter_key": "marque-o e depois a tecla de confirmação",
    "host_lets_in": "o seu anfitrião abre-lhe esta porta",
    "works_from": "O código funciona a partir da entrada, {when}.",
    "preparing": (
        "O seu código está a ser preparado. Volte a ver daqui a pouco ou contacte o anfitrião."
    ),
    "backup": "Código de reserva",
    "backup_hint": "Use-o nas mesmas portas se o seu código não as abrir.",
    "tell_host": "Avise o anfitrião",
    "told_arrived": "Avisou o anfitrião de que chegou às {when}.",
    "told_left": "Avisou o anfitrião de que saiu às {when}.",
    "arrived_button": "Já cheguei",
    "left_button": "Já saí",
    "problem_button": "O meu código não funciona",
    "your_host": "O seu anfitrião",
    "call": "Ligar {phone}",
    "email": "Escrever para {email}",
    "still_locked": "Se continuar sem conseguir entrar, ligue já ao anfitrião.",
    "leaving": "Ao sair",
    "wifi": "Wi-Fi",
    "directions": "Como chegar",
    "parking": "Estacionamento",
    "house_rules": "Regras da casa",
    "check_out_steps": "Antes de sair",
    "done_arrived": "Obrigado! Avisámos o anfitrião de que chegou.",
    "done_left": "Obrigado pela visita! Avisámos o anfitrião de que saiu.",
    "done_problem-backup": "Avisámos o anfitrião. Experimente o código de reserva abaixo.",
    "done_problem": "Avisámos o anfitrião, que o vai ajudar a entrar. Ligue-lhe, por favor.",
}
ES = {
    **EN,
    "hello": "Hola {name}, bienvenido/a a",
    "welcome": "Bienvenido/a a",
    "your_stay": "Tu estancia",
    "check_in": "Entrada",
    "check_out": "Salida",
    "local_times": "Horas locales del alojamiento ({zone}).",
    "your_code": "Tu código de la puerta",
    "waiting": "Tu código aparecerá aquí el",
    "over": "Tu estancia terminó el {when}. El código ya no funciona. ¡Gracias por tu visita!",
    "works_from": "El código funciona desde la entrada, {when}.",
    "backup": "Código de reserva",
    "tell_host": "Avisa a tu anfitrión",
    "arrived_button": "He llegado",
    "left_button": "Me he ido",
    "problem_button": "Mi código no funciona",
    "your_host": "Tu anfitrión",
    "call": "Llamar al {phone}",
    "email": "Escribir a {email}",
    "leaving": "Al salir",
    "directions": "Cómo llegar",
    "parking": "Aparcamiento",
    "house_rules": "Normas de la casa",
    "check_out_steps": "Antes de salir",
}
FR = {
    **EN,
    "hello": "Bonjour {name}, bienvenue à",
    "welcome": "Bienvenue à",
    "your_stay": "Votre séjour",
    "check_in": "Arrivée",
    "check_out": "Départ",
    "local_times": "Heures locales du logement ({zone}).",
    "your_code": "Votre code de porte",
    "waiting": "Votre code apparaîtra ici le",
    "over": "Votre séjour s'est terminé le {when}. Le code ne fonctionne plus. Merci !",
    "works_from": "Le code fonctionne dès l'arrivée, {when}.",
    "backup": "Code de secours",
    "tell_host": "Prévenir votre hôte",
    "arrived_button": "Je suis arrivé·e",
    "left_button": "Je suis parti·e",
    "problem_button": "Mon code ne fonctionne pas",
    "your_host": "Votre hôte",
    "call": "Appeler le {phone}",
    "email": "Écrire à {email}",
    "leaving": "En partant",
    "directions": "Accès",
    "parking": "Stationnement",
    "house_rules": "Règles de la maison",
    "check_out_steps": "Avant de partir",
}
DE = {
    **EN,
    "hello": "Hallo {name}, willkommen in",
    "welcome": "Willkommen in",
    "your_stay": "Ihr Aufenthalt",
    "check_in": "Anreise",
    "check_out": "Abreise",
    "local_times": "Ortszeit der Unterkunft ({zone}).",
    "your_code": "Ihr Türcode",
    "waiting": "Ihr Code erscheint hier am",
    "over": "Ihr Aufenthalt endete am {when}. Der Code gilt nicht mehr. Danke für Ihren Besuch!",
    "works_from": "Der Code gilt ab der Anreise, {when}.",
    "backup": "Ersatzcode",
    "tell_host": "Gastgeber benachrichtigen",
    "arrived_button": "Ich bin angekommen",
    "left_button": "Ich bin abgereist",
    "problem_button": "Mein Code funktioniert nicht",
    "your_host": "Ihr Gastgeber",
    "call": "{phone} anrufen",
    "email": "E-Mail an {email}",
    "leaving": "Bei der Abreise",
    "directions": "Anfahrt",
    "parking": "Parken",
    "house_rules": "Hausregeln",
    "check_out_steps": "Vor der Abreise",
}
IT = {
    **EN,
    "hello": "Ciao {name}, benvenuto/a a",
    "welcome": "Benvenuto/a a",
    "your_stay": "Il tuo soggiorno",
    "check_in": "Arrivo",
    "check_out": "Partenza",
    "local_times": "Orari locali dell'alloggio ({zone}).",
    "your_code": "Il tuo codice della porta",
    "waiting": "Il tuo codice apparirà qui il",
    "over": "Il tuo soggiorno è finito il {when}. Il codice non funziona più. Grazie!",
    "works_from": "Il codice funziona dall'arrivo, {when}.",
    "backup": "Codice di riserva",
    "tell_host": "Avvisa il tuo host",
    "arrived_button": "Sono arrivato/a",
    "left_button": "Sono partito/a",
    "problem_button": "Il mio codice non funziona",
    "your_host": "Il tuo host",
    "call": "Chiama il {phone}",
    "email": "Scrivi a {email}",
    "leaving": "Quando parti",
    "directions": "Come arrivare",
    "parking": "Parcheggio",
    "house_rules": "Regole della casa",
    "check_out_steps": "Prima di partire",
}
LANGUAGES = {"en": EN, "pt": PT, "es": ES, "fr": FR, "de": DE, "it": IT}


class Words:
    """The guidebook's wording and dates for one guest's language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._words = LANGUAGES[self.language]

    def __call__(self, key: str, **values: str) -> str:
        """The wording of ``key``, with ``values`` filled in."""
        return self._words.get(key, EN[key]).format(**values)

    def when(self, instant: datetime | None, zone: ZoneInfo, style: str = "long") -> str:
        """An instant on the property's clock, written the guest's way."""
        if instant is None or self.language == "en":
            return local(instant, zone, style)
        pattern = "HH:mm" if style == "time" else "EEE d MMM y, HH:mm"
        return format_datetime(instant.astimezone(zone), pattern, tzinfo=zone, locale=self.language)
