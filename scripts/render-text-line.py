# Renders the text-line image used by the main example (run once; the PNG is committed).
# Uses Debian's python3-pil and the DejaVu Sans font: /usr/bin/python3 scripts/render-text-line.py
from PIL import Image, ImageDraw, ImageFont

font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 30)
text = 'Integrated Gradients'
w = int(font.getlength(text)) + 16
img = Image.new('RGB', (w, 48), 'white')
ImageDraw.Draw(img).text((8, 6), text, fill='black', font=font)
img.save('examples/assets/text-line.png')
print(img.size)
